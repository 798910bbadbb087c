"""Video activity recognition: shapes that move left or right, turn clockwise
or counter-clockwise, grow or shrink, bounce, slide or wave, told apart by an
LRCN (a per-frame CNN under `TimeDistributed`, then an LSTM; the CNN sees each
frame with its difference to the previous frame) against a single-frame
baseline that averages per-frame predictions of single frames; generated clips
with clutter, test clips of shapes and colours never seen in training (or
your folder-per-class videos, UCF101 style). See
`applications.video_activity.data`.

    python -m applications.video_activity train --size default
    python -m applications.video_activity predict clip.avi
"""

from applications.contract import Application, Option, Size

MODELS = ("lrcn", "attention", "single_frame")

SIZES = {
    "fast": Size("what the test suite trains (~40 s on 2 cores): 8 frames of 32x32, LRCN ~85% held out (turning direction barely learned at this size), well above the single-frame baseline", train_examples=1800, epochs=8, batch_size=32, frames=8, image_size=32, filters=16, units=64, learning_rate=3e-3),
    "default": Size("for real use and RESULTS.md (~4 min on 2 cores, ~7 min in one busy CPU slot): 16 frames of 64x64, LRCN 98% on held-out shapes and colours, the single-frame baseline near chance", train_examples=4000, epochs=10, batch_size=32, frames=16, image_size=64, filters=16, units=128, learning_rate=2e-3),
}  # fmt: skip

APP = Application(
    __name__, SIZES, eval_examples=900, inputs="files", echo_inputs=True,
    inputs_help="video files (any size and length; frames are sampled and resized)",
    data_help="a folder with one sub-folder of video files per class (the UCF101 layout); 10%% held out",
    options=[
        Option("--model", dest="architecture", choices=MODELS, default="lrcn", commands=("train",),
               help="lrcn: per-frame CNN (each frame and its difference to the previous one) -> LSTM; attention: the same with attention pooling over the LSTM's "
                    "outputs; single_frame: the per-frame CNN's predictions averaged over the frames (baseline)"),
    ],
)  # fmt: skip
