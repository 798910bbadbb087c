// keras_seq's fused word2vec training step: one TensorFlow CPU op that runs
// word2vec's sequential negative-sampling SGD (skip-gram or CBOW) over a batch
// of windows, updating the two embedding tables (resource variables) in place.
//
// Built on first use by keras_seq/_custom_ops.py against the installed
// TensorFlow's headers; loaded with tf.load_op_library. The Python side
// (keras_seq/embeddings/word2vec.py) documents the semantics; the tests compare
// this op with a NumPy loop that replays the same random draws.
#define EIGEN_USE_THREADS

#include <algorithm>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/resource_var.h"
#include "tensorflow/core/framework/shape_inference.h"
#include "tensorflow/core/kernels/training_op_helpers.h"

namespace tensorflow {
namespace keras_seq {
namespace {

using CPUDevice = Eigen::ThreadPoolDevice;

REGISTER_OP("KerasSeqWord2VecSgd")
    .Input("syn0: resource")
    .Input("syn1: resource")
    .Input("tokens: int32")
    .Input("window_mask: bool")
    .Input("alias_threshold: int64")
    .Input("alias_index: int32")
    .Input("learning_rate: float")
    .Input("seed: int64")
    .Output("loss: float")
    .Output("examples: float")
    .Attr("negative: int >= 0")
    .Attr("sg: bool")
    .SetShapeFn([](shape_inference::InferenceContext* c) {
      c->set_output(0, c->Scalar());
      c->set_output(1, c->Scalar());
      return absl::OkStatus();
    })
    .Doc(R"doc(
Sequential word2vec SGD with negative sampling over one batch of windows.

Window i has its centre at tokens[W + i] and uses tokens[i + j] as a context
word wherever window_mask[i, j] is true (W = (columns - 1) / 2). Skip-gram
trains every (context, centre) pair in order: the context's input vector
against the centre (label 1) and `negative` words (label 0, a draw equal to the
centre is skipped). CBOW trains the mean of the window's context vectors the
same way and adds the summed input-side error to every context vector.
Negatives come from Walker's alias table (alias_threshold / 2^32 is the chance
of keeping the drawn column, alias_index its alternative), drawn with
SplitMix64 seeded by `seed`. The tables are updated in place without an
exclusive lock (Hogwild, like word2vec.c and gensim).
loss: sum over trained (example, target) terms of -log p(label).
examples: pairs (skip-gram) or windows with a context word (CBOW).
)doc");

// SplitMix64 (Steele, Lea and Flood 2014): one 64-bit draw per call.
inline uint64_t NextRandom(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

#if defined(__AVX512F__)
// AVX-512: two accumulators, a masked tail (vector_size need not be a
// multiple of 16).
inline __mmask16 TailMask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }

inline float Dot(const float* a, const float* b, int n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  if (i + 16 <= n) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    i += 16;
  }
  if (i < n) {
    const __mmask16 m = TailMask(n - i);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

inline void Axpy(float alpha, const float* x, float* y, int n) {
  const __m512 g = _mm512_set1_ps(alpha);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(g, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  }
  if (i < n) {
    const __mmask16 m = TailMask(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(g, _mm512_maskz_loadu_ps(m, x + i),
                                                    _mm512_maskz_loadu_ps(m, y + i)));
  }
}

// error += g * u; u += g * l1, in one pass over u (both with the old u).
inline void Update(float g, const float* l1, float* u, float* error, int n) {
  const __m512 gv = _mm512_set1_ps(g);
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 ui = _mm512_loadu_ps(u + i);
    _mm512_storeu_ps(error + i, _mm512_fmadd_ps(gv, ui, _mm512_loadu_ps(error + i)));
    _mm512_storeu_ps(u + i, _mm512_fmadd_ps(gv, _mm512_loadu_ps(l1 + i), ui));
  }
  if (i < n) {
    const __mmask16 m = TailMask(n - i);
    const __m512 ui = _mm512_maskz_loadu_ps(m, u + i);
    _mm512_mask_storeu_ps(error + i, m, _mm512_fmadd_ps(gv, ui, _mm512_maskz_loadu_ps(m, error + i)));
    _mm512_mask_storeu_ps(u + i, m, _mm512_fmadd_ps(gv, _mm512_maskz_loadu_ps(m, l1 + i), ui));
  }
}
#else
inline float Dot(const float* a, const float* b, int n) {
  float sum = 0.f;
#pragma omp simd reduction(+ : sum)
  for (int i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

inline void Axpy(float alpha, const float* x, float* y, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) y[i] += alpha * x[i];
}

inline void Update(float g, const float* l1, float* u, float* error, int n) {
#pragma omp simd
  for (int i = 0; i < n; ++i) {
    const float ui = u[i];
    error[i] += g * ui;
    u[i] = ui + g * l1[i];
  }
}
#endif

// Brings a table row towards the cache before it is needed.
inline void Prefetch(const float* row, int n) {
  for (int i = 0; i < n; i += 16) __builtin_prefetch(row + i, 1, 3);
}

class Word2VecSgdOp : public OpKernel {
 public:
  explicit Word2VecSgdOp(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("negative", &negative_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("sg", &sg_));
  }

  void Compute(OpKernelContext* ctx) override {
    // Shared (not exclusive) locks: concurrent steps update the tables
    // Hogwild-style; dense readers see copy-on-read snapshots.
    auto locks = MaybeLockVariableInputMutexesInOrder<CPUDevice, float>(
        ctx, /*do_lock=*/false, /*sparse=*/true, {0, 1});
    Tensor syn0_t, syn1_t;
    OP_REQUIRES_OK(ctx, GetInputTensorFromVariable<CPUDevice, float>(
                            ctx, 0, false, true, &syn0_t));
    OP_REQUIRES_OK(ctx, GetInputTensorFromVariable<CPUDevice, float>(
                            ctx, 1, false, true, &syn1_t));
    const Tensor& tokens_t = ctx->input(2);
    const Tensor& mask_t = ctx->input(3);
    const Tensor& threshold_t = ctx->input(4);
    const Tensor& alias_t = ctx->input(5);
    const Tensor& lr_t = ctx->input(6);
    const Tensor& seed_t = ctx->input(7);

    OP_REQUIRES(ctx, syn0_t.dtype() == DT_FLOAT && syn1_t.dtype() == DT_FLOAT,
                errors::InvalidArgument("`syn0` and `syn1` must be float32 variables."));
    OP_REQUIRES(ctx, syn0_t.dims() == 2 && syn0_t.shape() == syn1_t.shape(),
                errors::InvalidArgument("`syn0` and `syn1` must be [vocabulary, dimension] tables "
                                        "of the same shape; got ", syn0_t.shape().DebugString(),
                                        " and ", syn1_t.shape().DebugString(), "."));
    const int64_t vocab = syn0_t.dim_size(0);
    const int dim = static_cast<int>(syn0_t.dim_size(1));
    OP_REQUIRES(ctx, vocab > 0, errors::InvalidArgument("the tables must have at least one row."));
    OP_REQUIRES(ctx, mask_t.dims() == 2 && mask_t.dim_size(1) % 2 == 1,
                errors::InvalidArgument("`window_mask` must be [batch, 2 * window + 1]; got ",
                                        mask_t.shape().DebugString(), "."));
    const int64_t batch = mask_t.dim_size(0);
    const int64_t span = mask_t.dim_size(1);
    const int64_t window = (span - 1) / 2;
    OP_REQUIRES(ctx, tokens_t.dims() == 1 && tokens_t.dim_size(0) == batch + 2 * window,
                errors::InvalidArgument("`tokens` must be a vector of batch + 2 * window = ",
                                        batch + 2 * window, " word ids; got shape ",
                                        tokens_t.shape().DebugString(), "."));
    OP_REQUIRES(ctx, threshold_t.dims() == 1 && threshold_t.dim_size(0) == vocab &&
                         alias_t.dims() == 1 && alias_t.dim_size(0) == vocab,
                errors::InvalidArgument("`alias_threshold` and `alias_index` must be vectors of one "
                                        "entry per word (", vocab, ")."));
    OP_REQUIRES(ctx, TensorShapeUtils::IsScalar(lr_t.shape()),
                errors::InvalidArgument("`learning_rate` must be a scalar."));
    OP_REQUIRES(ctx, seed_t.dims() == 1 && seed_t.dim_size(0) == 2,
                errors::InvalidArgument("`seed` must be a vector of two int64."));

    float* syn0 = syn0_t.flat<float>().data();
    float* syn1 = syn1_t.flat<float>().data();
    const int32_t* tokens = tokens_t.flat<int32_t>().data();
    const bool* mask = mask_t.flat<bool>().data();
    const int64_t* threshold = threshold_t.flat<int64_t>().data();
    const int32_t* alias = alias_t.flat<int32_t>().data();
    const float lr = lr_t.scalar<float>()();
    for (int64_t i = 0; i < batch + 2 * window; ++i) {
      OP_REQUIRES(ctx, tokens[i] >= 0 && tokens[i] < vocab,
                  errors::InvalidArgument("`tokens` must be word ids in [0, ", vocab, "); got ",
                                          tokens[i], " at position ", i, "."));
    }
    for (int64_t i = 0; i < vocab; ++i) {
      OP_REQUIRES(ctx, alias[i] >= 0 && alias[i] < vocab,
                  errors::InvalidArgument("`alias_index` must hold word ids in [0, ", vocab, "); got ",
                                          alias[i], " at ", i, "."));
    }
    const auto seed = seed_t.flat<int64_t>();
    uint64_t state = static_cast<uint64_t>(seed(0)) * 0x100000001B3ULL ^ static_cast<uint64_t>(seed(1));
    const uint64_t columns = static_cast<uint64_t>(vocab);

    std::vector<float> hidden(dim), error(dim);
    double loss = 0.0, examples = 0.0;
    // The product of the probabilities given to the right labels; its log is
    // added to the loss before it can underflow (one log per ~30 terms).
    double probability = 1.0;

    auto draw = [&]() -> int32_t {
      const uint64_t u = NextRandom(&state);
      const uint64_t column = ((u >> 32) * columns) >> 32;
      return static_cast<int64_t>(u & 0xFFFFFFFFULL) < threshold[column]
                 ? static_cast<int32_t>(column)
                 : alias[column];
    };
    // Trains the input vector `l1` against `centre` and the negatives; adds
    // the input-side gradient to `error`. The k negatives are drawn first
    // (the same draws in the same order) so that their rows can be fetched
    // while the earlier targets are trained.
    std::vector<int32_t> targets(negative_ + 1);
    auto train = [&](const float* l1, int32_t centre) {
      targets[0] = centre;
      for (int d = 1; d <= negative_; ++d) {
        targets[d] = draw();
        Prefetch(syn1 + static_cast<int64_t>(targets[d]) * dim, dim);
      }
      for (int d = 0; d <= negative_; ++d) {
        const int32_t target = targets[d];
        if (d > 0 && target == centre) continue;
        const float label = d == 0 ? 1.f : 0.f;
        float* u = syn1 + static_cast<int64_t>(target) * dim;
        const float sigma = 1.f / (1.f + std::exp(-Dot(l1, u, dim)));
        const float e = label - sigma;
        probability *= std::max(1.f - std::fabs(e), 1e-7f);
        if (probability < 1e-200) {
          loss -= std::log(probability);
          probability = 1.0;
        }
        Update(e * lr, l1, u, error.data(), dim);
      }
    };

    for (int64_t i = 0; i < batch; ++i) {
      const int32_t centre = tokens[window + i];
      const bool* row = mask + i * span;
      if (sg_) {
        Prefetch(syn1 + static_cast<int64_t>(centre) * dim, dim);
        for (int64_t j = 0; j < span; ++j) {
          if (!row[j]) continue;
          float* l1 = syn0 + static_cast<int64_t>(tokens[i + j]) * dim;
          std::fill(error.begin(), error.end(), 0.f);
          train(l1, centre);
          Axpy(1.f, error.data(), l1, dim);
          examples += 1;
        }
      } else {
        int count = 0;
        std::fill(hidden.begin(), hidden.end(), 0.f);
        for (int64_t j = 0; j < span; ++j) {
          if (!row[j]) continue;
          Axpy(1.f, syn0 + static_cast<int64_t>(tokens[i + j]) * dim, hidden.data(), dim);
          ++count;
        }
        if (count == 0) continue;
        const float inverse = 1.f / count;
        for (int c = 0; c < dim; ++c) hidden[c] *= inverse;
        std::fill(error.begin(), error.end(), 0.f);
        train(hidden.data(), centre);
        // gensim's cbow_mean: every context word receives the whole error.
        for (int64_t j = 0; j < span; ++j) {
          if (row[j]) Axpy(1.f, error.data(), syn0 + static_cast<int64_t>(tokens[i + j]) * dim, dim);
        }
        examples += 1;
      }
    }
    loss -= std::log(probability);

    Tensor* out = nullptr;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, TensorShape({}), &out));
    out->scalar<float>()() = static_cast<float>(loss);
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, TensorShape({}), &out));
    out->scalar<float>()() = static_cast<float>(examples);
  }

 private:
  int negative_;
  bool sg_;
};

REGISTER_KERNEL_BUILDER(Name("KerasSeqWord2VecSgd").Device(DEVICE_CPU), Word2VecSgdOp);

}  // namespace
}  // namespace keras_seq
}  // namespace tensorflow
