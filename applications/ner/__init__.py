"""Named-entity recognition (seed 15.1): BIO tagging with a BiLSTM over words, shapes and characters."""
