"""One encoder-decoder for several tasks chosen by a text prefix (T5-style):
date normalisation, German-to-English numbers and extractive QA, mixed
proportionally, equally or by temperature (`keras_seq.data.mix_datasets`).

    python -m applications.text_to_text train --size default --mixing temperature
    python -m applications.text_to_text predict "translate german to english: sieben und siebzig"
"""

from applications.contract import Application, Option, Size

MIXING = ("proportional", "equal", "temperature")

SIZES = {
    "fast": Size("what the test suite trains (~1 min on 2 cores): learns the prefixes, few answers exactly right", examples_per_task=2_000, epochs=3, batch_size=64, hidden_dim=64, num_layers=1, learning_rate=2e-3),
    "default": Size("for real use and RESULTS.md: ~16 min on 2 cores, 100% on dates and numbers, ~48% on QA", examples_per_task=15_000, epochs=10, batch_size=64, hidden_dim=128, num_layers=2, learning_rate=1e-3),
}  # fmt: skip

APP = Application(
    __name__, SIZES, eval_examples=300, inputs_help="prefixed inputs, e.g. 'translate german to english: sieben und siebzig'", data_help="(not supported: the tasks are generated)",
    options=[
        Option("--mixing", choices=MIXING, default="proportional", help="how the tasks are mixed in training"),
    ],
)
