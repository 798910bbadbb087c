"""Decoding: search and sampling driven by a model's `step_fn(tokens, state)`."""

from keras_seq.decoding.analysis import beam_error_analysis, mbr_select
from keras_seq.decoding.beam import beam_search
from keras_seq.decoding.ctc import ctc_beam_search_decode, ctc_greedy_decode
from keras_seq.decoding.greedy import greedy_search
from keras_seq.decoding.ngram import KenLMAdapter, NGramLM
from keras_seq.decoding.sampling import filter_logits, sample
from keras_seq.decoding.step import static_step

__all__ = [
    "beam_error_analysis",
    "beam_search",
    "ctc_beam_search_decode",
    "ctc_greedy_decode",
    "filter_logits",
    "greedy_search",
    "KenLMAdapter",
    "NGramLM",
    "mbr_select",
    "sample",
    "static_step",
]
