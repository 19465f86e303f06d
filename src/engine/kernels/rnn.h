// Pieces shared by the LSTM and GRU kernels: activation functions named by the `activations`
// attribute, direction, input validation and the per-direction input projection X * W^T.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aquant/engine/kernel.h"

namespace aquant::engine::rnn {

struct Activation {
    enum class Kind {
        kSigmoid,
        kTanh,
        kRelu,
        kAffine,
        kLeakyRelu,
        kThresholdedRelu,
        kScaledTanh,
        kHardSigmoid,
        kElu,
        kSoftsign,
        kSoftplus
    };
    Kind kind = Kind::kSigmoid;
    float alpha = 0.0f, beta = 0.0f;

    float operator()(float x) const;
    void apply(float* x, std::int64_t n) const;
};

/// `per_direction` activations for each of `num_directions`, from the `activations`,
/// `activation_alpha` and `activation_beta` attributes (alpha/beta consumed in order by the
/// functions that take them; defaults as the ONNX ops of the same name), else `defaults`.
std::vector<Activation> read_activations(const KernelBuildInfo& info, int num_directions,
                                         const std::vector<std::string>& defaults);

/// 1 for forward/reverse, 2 for bidirectional; `reverse` set for "reverse".
int read_direction(const KernelBuildInfo& info, bool* reverse);

struct Shape {
    std::int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 0;
    bool batch_first = false;  // layout = 1
    /// Row of X (and of the projection) holding time step t of batch entry b.
    std::int64_t row(std::int64_t t, std::int64_t b) const {
        return batch_first ? b * seq + t : t * batch + b;
    }
};

/// Checks X, W, R, B, sequence_lens and initial_h against each other (`gates` = 4 for LSTM,
/// 3 for GRU) and returns the shape. Fails through ctx.
Shape check_inputs(const KernelContext& ctx, int gates, std::int64_t hidden_attr,
                   std::int64_t dirs, bool batch_first);

/// sequence_lens (input 4) or `seq` for every batch entry; fails on values outside [0, seq].
std::vector<std::int64_t> sequence_lengths(const KernelContext& ctx, const Shape& s);

/// xw[row(t, b)][j] = sum_k x[row(t, b)][k] * w[j][k] for the `gates * hidden` rows of w.
void input_projection(const float* x, const float* w, const Shape& s, int gates, float* xw);

/// Offset of initial_h / Y_h element (direction d, batch b, 0) for either layout.
inline std::int64_t state_offset(const Shape& s, std::int64_t d, std::int64_t b) {
    return (s.batch_first ? b * s.dirs + d : d * s.batch + b) * s.hidden;
}

/// Offset of Y element (time t, direction d, batch b, 0) for either layout.
inline std::int64_t y_offset(const Shape& s, std::int64_t t, std::int64_t d, std::int64_t b) {
    return (s.batch_first ? (b * s.seq + t) * s.dirs + d : (t * s.dirs + d) * s.batch + b) *
           s.hidden;
}

}  // namespace aquant::engine::rnn
