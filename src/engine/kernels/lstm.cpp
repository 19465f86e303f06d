// ONNX LSTM-7/14 (fp32): forward, reverse, bidirectional; gates i, o, f, c; peepholes P;
// initial_h/initial_c; sequence_lens (steps past a sequence's length leave Y zero and the state
// unchanged; the reverse direction starts at each sequence's own last step); clip; input_forget;
// layout 0 and 1; outputs Y, Y_h, Y_c. Per step:
//   it = f(Xt Wi^T + Ht-1 Ri^T + Pi . Ct-1 + Wbi + Rbi)     ft likewise (1 - it with input_forget)
//   ct = g(Xt Wc^T + Ht-1 Rc^T + Wbc + Rbc),  Ct = ft . Ct-1 + it . ct
//   ot = f(Xt Wo^T + Ht-1 Ro^T + Po . Ct + Wbo + Rbo),  Ht = ot . h(Ct)
// Clip bounds each gate's pre-activation (peephole and bias included), as ONNX Runtime.
// X * W^T for all steps is one GEMM per direction; Ht-1 * R^T is one GEMM per step.
#include <algorithm>
#include <cstring>

#include "aquant/engine/gemm.h"
#include "aquant/engine/kernel_registry.h"
#include "kernel_util.h"
#include "rnn.h"

namespace aquant::engine {
namespace {

class Lstm final : public Kernel {
public:
    Lstm(std::int64_t hidden, int dirs, bool reverse, float clip, bool input_forget,
         bool batch_first, std::vector<rnn::Activation> acts)
        : hidden_(hidden),
          dirs_(dirs),
          reverse_(reverse),
          clip_(clip),
          input_forget_(input_forget),
          batch_first_(batch_first),
          acts_(std::move(acts)) {}

    void run(KernelContext& ctx) const override {
        const rnn::Shape s = rnn::check_inputs(ctx, 4, hidden_, dirs_, batch_first_);
        if (ctx.has_input(7)) {
            const Tensor& p = ctx.input(7);
            if (p.dtype() != DType::kF32) fail_type(ctx, 7);
            if (p.dims() != Dims{s.dirs, 3 * s.hidden}) {
                ctx.fail("input 7 (P): expected " + dims_str({s.dirs, 3 * s.hidden}) + ", got " +
                         dims_str(p.dims()));
            }
        }
        const auto lens = rnn::sequence_lengths(ctx, s);
        const Dims y_dims = batch_first_ ? Dims{s.batch, s.seq, s.dirs, s.hidden}
                                         : Dims{s.seq, s.dirs, s.batch, s.hidden};
        const Dims st_dims = batch_first_ ? Dims{s.batch, s.dirs, s.hidden}
                                          : Dims{s.dirs, s.batch, s.hidden};
        float* y = output(ctx, 0, y_dims);
        float* yh = output(ctx, 1, st_dims);
        float* yc = output(ctx, 2, st_dims);
        const std::int64_t H = s.hidden, G = 4 * H;
        std::vector<float> xw(static_cast<std::size_t>(s.seq * s.batch * G));
        std::vector<float> gates(static_cast<std::size_t>(s.batch * G));
        std::vector<float> h(static_cast<std::size_t>(s.batch * H));
        std::vector<float> c(static_cast<std::size_t>(s.batch * H));
        std::vector<float> bias(static_cast<std::size_t>(G));
        for (std::int64_t d = 0; d < s.dirs; ++d) {
            const bool backward = reverse_ || d == 1;
            const float* w = ctx.input(1).data<float>() + d * G * s.input;
            const float* r = ctx.input(2).data<float>() + d * G * H;
            const float* p = ctx.has_input(7) ? ctx.input(7).data<float>() + d * 3 * H : nullptr;
            std::fill(bias.begin(), bias.end(), 0.0f);
            if (ctx.has_input(3)) {
                const float* b = ctx.input(3).data<float>() + d * 2 * G;
                for (std::int64_t j = 0; j < G; ++j) bias[j] = b[j] + b[G + j];
            }
            load_state(ctx, 5, s, d, h.data());
            load_state(ctx, 6, s, d, c.data());
            rnn::input_projection(ctx.input(0).data<float>(), w, s, 4, xw.data());
            const rnn::Activation* act = acts_.data() + 3 * d;
            for (std::int64_t step = 0; step < s.seq; ++step) {
                GemmArgs g;
                g.m = s.batch;
                g.n = G;
                g.k = H;
                g.a = h.data();
                g.lda = H;
                g.b = r;
                g.ldb = H;
                g.trans_b = true;
                g.c = gates.data();
                g.ldc = G;
                gemm_f32(g);
                for (std::int64_t b = 0; b < s.batch; ++b) {
                    const std::int64_t len = lens[static_cast<std::size_t>(b)];
                    if (step >= len) continue;
                    const std::int64_t t = backward ? len - 1 - step : step;
                    float* gb = gates.data() + b * G;
                    const float* xb = xw.data() + s.row(t, b) * G;
                    for (std::int64_t j = 0; j < G; ++j) gb[j] += xb[j] + bias[j];
                    cell(gb, p, act, h.data() + b * H, c.data() + b * H);
                    if (y) {
                        std::memcpy(y + rnn::y_offset(s, t, d, b), h.data() + b * H,
                                    sizeof(float) * H);
                    }
                }
            }
            for (std::int64_t b = 0; b < s.batch; ++b) {
                if (yh) std::memcpy(yh + rnn::state_offset(s, d, b), h.data() + b * H, sizeof(float) * H);
                if (yc) std::memcpy(yc + rnn::state_offset(s, d, b), c.data() + b * H, sizeof(float) * H);
            }
        }
    }

private:
    static float* output(KernelContext& ctx, std::size_t i, const Dims& dims) {
        if (ctx.num_outputs() <= i || !ctx.node().outputs[i].valid()) return nullptr;
        return ctx.allocate_output(i, DType::kF32, dims).data<float>();
    }

    static void load_state(const KernelContext& ctx, std::size_t input, const rnn::Shape& s,
                           std::int64_t d, float* state) {
        if (!ctx.has_input(input)) {
            std::fill(state, state + s.batch * s.hidden, 0.0f);
            return;
        }
        const float* src = ctx.input(input).data<float>();
        for (std::int64_t b = 0; b < s.batch; ++b) {
            std::memcpy(state + b * s.hidden, src + rnn::state_offset(s, d, b),
                        sizeof(float) * s.hidden);
        }
    }

    // One batch entry: g holds the 4 pre-activations (i, o, f, c) without peepholes.
    void cell(float* g, const float* p, const rnn::Activation* act, float* h, float* c) const {
        const std::int64_t H = hidden_;
        float* gi = g;
        float* go = g + H;
        float* gf = g + 2 * H;
        float* gc = g + 3 * H;
        for (std::int64_t j = 0; j < H; ++j) {
            float i_pre = gi[j] + (p ? p[j] * c[j] : 0.0f);
            float f_pre = gf[j] + (p ? p[2 * H + j] * c[j] : 0.0f);
            float c_pre = gc[j];
            if (clip_ > 0.0f) {
                i_pre = std::clamp(i_pre, -clip_, clip_);
                f_pre = std::clamp(f_pre, -clip_, clip_);
                c_pre = std::clamp(c_pre, -clip_, clip_);
            }
            const float it = act[0](i_pre);
            const float ft = input_forget_ ? 1.0f - it : act[0](f_pre);
            const float ct = act[1](c_pre);
            c[j] = ft * c[j] + it * ct;
            float o_pre = go[j] + (p ? p[H + j] * c[j] : 0.0f);
            if (clip_ > 0.0f) o_pre = std::clamp(o_pre, -clip_, clip_);
            h[j] = act[0](o_pre) * act[2](c[j]);
        }
    }

    std::int64_t hidden_;
    std::int64_t dirs_;
    bool reverse_;
    float clip_;
    bool input_forget_;
    bool batch_first_;
    std::vector<rnn::Activation> acts_;  // f, g, h per direction
};

}  // namespace

void register_lstm(KernelRegistry& registry) {
    registry.add("LSTM", [](const KernelBuildInfo& info) -> KernelPtr {
        const ir::Node& n = info.node;
        if (n.num_inputs() < 3) info.fail("expected inputs X, W and R");
        bool reverse = false;
        const int dirs = rnn::read_direction(info, &reverse);
        const std::int64_t layout = n.attr_int("layout", 0);
        if (layout != 0 && layout != 1) {
            info.fail("attribute 'layout': expected 0 or 1, got " + std::to_string(layout));
        }
        return std::make_unique<Lstm>(n.attr_int("hidden_size", 0), dirs, reverse,
                                      n.attr_float("clip", 0.0f), n.attr_int("input_forget", 0) != 0,
                                      layout == 1,
                                      rnn::read_activations(info, dirs, {"Sigmoid", "Tanh", "Tanh"}));
    });
}

}  // namespace aquant::engine
