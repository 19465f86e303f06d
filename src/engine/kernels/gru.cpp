// ONNX GRU-7/14 (fp32): forward, reverse, bidirectional; gates z, r, h; initial_h;
// sequence_lens (as LSTM); clip; linear_before_reset; layout 0 and 1; outputs Y, Y_h. Per step:
//   zt = f(Xt Wz^T + Ht-1 Rz^T + Wbz + Rbz),  rt = f(Xt Wr^T + Ht-1 Rr^T + Wbr + Rbr)
//   ht = g(Xt Wh^T + (rt . Ht-1) Rh^T + Rbh + Wbh)          linear_before_reset = 0
//   ht = g(Xt Wh^T + rt . (Ht-1 Rh^T + Rbh) + Wbh)          linear_before_reset = 1
//   Ht = (1 - zt) . ht + zt . Ht-1
#include <algorithm>
#include <cstring>

#include "aquant/engine/gemm.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "rnn.h"

namespace aquant::engine {
namespace {

class Gru final : public Kernel {
public:
    Gru(std::int64_t hidden, int dirs, bool reverse, float clip, bool linear_before_reset,
        bool batch_first, std::vector<rnn::Activation> acts)
        : hidden_(hidden),
          dirs_(dirs),
          reverse_(reverse),
          clip_(clip),
          lbr_(linear_before_reset),
          batch_first_(batch_first),
          acts_(std::move(acts)) {}

    void run(KernelContext& ctx) const override {
        const rnn::Shape s = rnn::check_inputs(ctx, 3, hidden_, dirs_, batch_first_);
        const auto lens = rnn::sequence_lengths(ctx, s);
        const Dims y_dims = batch_first_ ? Dims{s.batch, s.seq, s.dirs, s.hidden}
                                         : Dims{s.seq, s.dirs, s.batch, s.hidden};
        const Dims st_dims = batch_first_ ? Dims{s.batch, s.dirs, s.hidden}
                                          : Dims{s.dirs, s.batch, s.hidden};
        float* y = output(ctx, 0, y_dims);
        float* yh = output(ctx, 1, st_dims);
        const std::int64_t H = s.hidden, G = 3 * H;
        std::vector<float> xw(static_cast<std::size_t>(s.seq * s.batch * G));
        std::vector<float> gates(static_cast<std::size_t>(s.batch * G));
        std::vector<float> rh(static_cast<std::size_t>(s.batch * H));
        std::vector<float> hh(static_cast<std::size_t>(s.batch * H));
        std::vector<float> h(static_cast<std::size_t>(s.batch * H));
        std::vector<float> wb(static_cast<std::size_t>(G)), rb(static_cast<std::size_t>(G));
        for (std::int64_t d = 0; d < s.dirs; ++d) {
            const bool backward = reverse_ || d == 1;
            const float* w = ctx.input(1).data<float>() + d * G * s.input;
            const float* r = ctx.input(2).data<float>() + d * G * H;
            std::fill(wb.begin(), wb.end(), 0.0f);
            std::fill(rb.begin(), rb.end(), 0.0f);
            if (ctx.has_input(3)) {
                const float* b = ctx.input(3).data<float>() + d * 2 * G;
                std::copy(b, b + G, wb.begin());
                std::copy(b + G, b + 2 * G, rb.begin());
            }
            load_state(ctx, s, d, h.data());
            rnn::input_projection(ctx.input(0).data<float>(), w, s, 3, xw.data());
            const rnn::Activation* act = acts_.data() + 2 * d;
            for (std::int64_t step = 0; step < s.seq; ++step) {
                // z and r (and h when linear_before_reset) recurrent parts: Ht-1 * R^T.
                gemm_rows(h.data(), r, s.batch, lbr_ ? G : 2 * H, H, gates.data(), G);
                for (std::int64_t b = 0; b < s.batch; ++b) {
                    const std::int64_t len = lens[static_cast<std::size_t>(b)];
                    if (step >= len) continue;
                    const std::int64_t t = backward ? len - 1 - step : step;
                    float* gb = gates.data() + b * G;
                    const float* xb = xw.data() + s.row(t, b) * G;
                    const float* hb = h.data() + b * H;
                    for (std::int64_t j = 0; j < 2 * H; ++j) {
                        gb[j] = act[0](clip(gb[j] + xb[j] + wb[j] + rb[j]));
                    }
                    const float* rt = gb + H;
                    if (!lbr_) {
                        for (std::int64_t j = 0; j < H; ++j) rh[b * H + j] = rt[j] * hb[j];
                    }
                }
                if (!lbr_) gemm_rows(rh.data(), r + 2 * H * H, s.batch, H, H, hh.data(), H);
                for (std::int64_t b = 0; b < s.batch; ++b) {
                    const std::int64_t len = lens[static_cast<std::size_t>(b)];
                    if (step >= len) continue;
                    const std::int64_t t = backward ? len - 1 - step : step;
                    const float* gb = gates.data() + b * G;
                    const float* xb = xw.data() + s.row(t, b) * G + 2 * H;
                    float* hb = h.data() + b * H;
                    for (std::int64_t j = 0; j < H; ++j) {
                        const float rec = lbr_ ? gb[H + j] * (gb[2 * H + j] + rb[2 * H + j])
                                               : hh[b * H + j] + rb[2 * H + j];
                        const float ht = act[1](clip(xb[j] + wb[2 * H + j] + rec));
                        const float zt = gb[j];
                        hb[j] = (1.0f - zt) * ht + zt * hb[j];
                    }
                    if (y) std::memcpy(y + rnn::y_offset(s, t, d, b), hb, sizeof(float) * H);
                }
            }
            if (yh) {
                for (std::int64_t b = 0; b < s.batch; ++b) {
                    std::memcpy(yh + rnn::state_offset(s, d, b), h.data() + b * H,
                                sizeof(float) * H);
                }
            }
        }
    }

private:
    float clip(float v) const { return clip_ > 0.0f ? std::clamp(v, -clip_, clip_) : v; }

    // c[m x n] = a[m x k] * w[n x k]^T.
    static void gemm_rows(const float* a, const float* w, std::int64_t m, std::int64_t n,
                          std::int64_t k, float* c, std::int64_t ldc) {
        GemmArgs g;
        g.m = m;
        g.n = n;
        g.k = k;
        g.a = a;
        g.lda = k;
        g.b = w;
        g.ldb = k;
        g.trans_b = true;
        g.c = c;
        g.ldc = ldc;
        gemm_f32(g);
    }

    static float* output(KernelContext& ctx, std::size_t i, const Dims& dims) {
        if (ctx.num_outputs() <= i || !ctx.node().outputs[i].valid()) return nullptr;
        return ctx.allocate_output(i, DType::kF32, dims).data<float>();
    }

    static void load_state(const KernelContext& ctx, const rnn::Shape& s, std::int64_t d,
                           float* state) {
        if (!ctx.has_input(5)) {
            std::fill(state, state + s.batch * s.hidden, 0.0f);
            return;
        }
        const float* src = ctx.input(5).data<float>();
        for (std::int64_t b = 0; b < s.batch; ++b) {
            std::memcpy(state + b * s.hidden, src + rnn::state_offset(s, d, b),
                        sizeof(float) * s.hidden);
        }
    }

    std::int64_t hidden_;
    std::int64_t dirs_;
    bool reverse_;
    float clip_;
    bool lbr_;
    bool batch_first_;
    std::vector<rnn::Activation> acts_;  // f, g per direction
};

}  // namespace

void register_gru(KernelRegistry& registry) {
    registry.add("GRU", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Node& n = info.node;
        if (n.num_inputs() < 3) info.fail("expected inputs X, W and R");
        bool reverse = false;
        const int dirs = rnn::read_direction(info, &reverse);
        const std::int64_t layout = n.attr_int("layout", 0);
        if (layout != 0 && layout != 1) {
            info.fail("attribute 'layout': expected 0 or 1, got " + std::to_string(layout));
        }
        return std::make_unique<Gru>(n.attr_int("hidden_size", 0), dirs, reverse,
                                     n.attr_float("clip", 0.0f),
                                     n.attr_int("linear_before_reset", 0) != 0, layout == 1,
                                     rnn::read_activations(info, dirs, {"Sigmoid", "Tanh"}));
    });
}

}  // namespace aquant::engine
