#include "rnn.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "aquant/engine/gemm.h"
#include "kernel_util.h"

namespace aquant::engine::rnn {
namespace {

struct ActivationRow {
    const char* name;
    Activation::Kind kind;
    int params;  // how many of alpha, beta it consumes
    float alpha, beta;
};

// Defaults as the ONNX ops of the same name (Affine and ScaledTanh as ONNX Runtime).
constexpr ActivationRow kActivations[] = {
    {"Sigmoid", Activation::Kind::kSigmoid, 0, 0.0f, 0.0f},
    {"Tanh", Activation::Kind::kTanh, 0, 0.0f, 0.0f},
    {"Relu", Activation::Kind::kRelu, 0, 0.0f, 0.0f},
    {"Affine", Activation::Kind::kAffine, 2, 1.0f, 0.0f},
    {"LeakyRelu", Activation::Kind::kLeakyRelu, 1, 0.01f, 0.0f},
    {"ThresholdedRelu", Activation::Kind::kThresholdedRelu, 1, 1.0f, 0.0f},
    {"ScaledTanh", Activation::Kind::kScaledTanh, 2, 1.0f, 1.0f},
    {"HardSigmoid", Activation::Kind::kHardSigmoid, 2, 0.2f, 0.5f},
    {"Elu", Activation::Kind::kElu, 1, 1.0f, 0.0f},
    {"Softsign", Activation::Kind::kSoftsign, 0, 0.0f, 0.0f},
    {"Softplus", Activation::Kind::kSoftplus, 0, 0.0f, 0.0f},
};

bool iequals(const std::string& a, const char* b) {
    std::size_t i = 0;
    for (; i < a.size() && b[i]; ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return i == a.size() && b[i] == 0;
}

}  // namespace

float Activation::operator()(float x) const {
    switch (kind) {
        case Kind::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
        case Kind::kTanh: return std::tanh(x);
        case Kind::kRelu: return std::max(x, 0.0f);
        case Kind::kAffine: return alpha * x + beta;
        case Kind::kLeakyRelu: return x >= 0.0f ? x : alpha * x;
        case Kind::kThresholdedRelu: return x > alpha ? x : 0.0f;
        case Kind::kScaledTanh: return alpha * std::tanh(beta * x);
        case Kind::kHardSigmoid: return std::clamp(alpha * x + beta, 0.0f, 1.0f);
        case Kind::kElu: return x >= 0.0f ? x : alpha * (std::exp(x) - 1.0f);
        case Kind::kSoftsign: return x / (1.0f + std::fabs(x));
        case Kind::kSoftplus: return std::log1p(std::exp(x));
    }
    return x;
}

void Activation::apply(float* x, std::int64_t n) const {
    for (std::int64_t i = 0; i < n; ++i) x[i] = (*this)(x[i]);
}

std::vector<Activation> read_activations(const KernelBuildInfo& info, int num_directions,
                                         const std::vector<std::string>& defaults) {
    const ir::Node& n = info.node;
    std::vector<std::string> names;
    if (const ir::Attribute* attr = n.find_attr("activations")) names = attr->strings;
    const std::size_t want = defaults.size() * static_cast<std::size_t>(num_directions);
    if (names.empty()) {
        for (int d = 0; d < num_directions; ++d) {
            names.insert(names.end(), defaults.begin(), defaults.end());
        }
    }
    if (names.size() != want) {
        info.fail("attribute 'activations': expected " + std::to_string(want) + " names, got " +
                  std::to_string(names.size()));
    }
    const std::vector<float> alphas = n.attr_floats("activation_alpha");
    const std::vector<float> betas = n.attr_floats("activation_beta");
    std::size_t next_alpha = 0, next_beta = 0;
    std::vector<Activation> out;
    for (const std::string& name : names) {
        const ActivationRow* row = nullptr;
        for (const auto& r : kActivations) {
            if (iequals(name, r.name)) row = &r;
        }
        if (!row) info.fail("attribute 'activations': unknown function '" + name + "'");
        Activation a;
        a.kind = row->kind;
        a.alpha = row->alpha;
        a.beta = row->beta;
        if (row->params >= 1 && next_alpha < alphas.size()) a.alpha = alphas[next_alpha++];
        if (row->params >= 2 && next_beta < betas.size()) a.beta = betas[next_beta++];
        out.push_back(a);
    }
    return out;
}

int read_direction(const KernelBuildInfo& info, bool* reverse) {
    const std::string d = info.node.attr_string("direction", "forward");
    *reverse = d == "reverse";
    if (d == "forward" || d == "reverse") return 1;
    if (d == "bidirectional") return 2;
    info.fail("attribute 'direction': expected forward, reverse or bidirectional, got '" + d + "'");
}

Shape check_inputs(const KernelContext& ctx, int gates, std::int64_t hidden_attr,
                   std::int64_t dirs, bool batch_first) {
    const Tensor& x = ctx.input(0);
    const Tensor& w = ctx.input(1);
    const Tensor& r = ctx.input(2);
    for (std::size_t i = 0; i < 3; ++i) {
        if (ctx.input(i).dtype() != DType::kF32) fail_type(ctx, i);
    }
    if (x.rank() != 3) ctx.fail("input 0 (X): expected rank 3, got " + dims_str(x.dims()));
    Shape s;
    s.batch_first = batch_first;
    s.seq = batch_first ? x.dim(1) : x.dim(0);
    s.batch = batch_first ? x.dim(0) : x.dim(1);
    s.input = x.dim(2);
    s.dirs = dirs;
    s.hidden = hidden_attr > 0 ? hidden_attr : (r.rank() == 3 ? r.dim(2) : 0);
    const std::int64_t gh = gates * s.hidden;
    if (w.dims() != Dims{dirs, gh, s.input}) {
        ctx.fail("input 1 (W): expected " + dims_str({dirs, gh, s.input}) + ", got " +
                 dims_str(w.dims()));
    }
    if (r.dims() != Dims{dirs, gh, s.hidden}) {
        ctx.fail("input 2 (R): expected " + dims_str({dirs, gh, s.hidden}) + ", got " +
                 dims_str(r.dims()));
    }
    if (ctx.has_input(3)) {
        const Tensor& b = ctx.input(3);
        if (b.dtype() != DType::kF32) fail_type(ctx, 3);
        if (b.dims() != Dims{dirs, 2 * gh}) {
            ctx.fail("input 3 (B): expected " + dims_str({dirs, 2 * gh}) + ", got " +
                     dims_str(b.dims()));
        }
    }
    const Dims state = batch_first ? Dims{s.batch, dirs, s.hidden} : Dims{dirs, s.batch, s.hidden};
    for (std::size_t i : {std::size_t{5}, std::size_t{6}}) {
        if (i == 6 && gates != 4) break;  // initial_c is LSTM only
        if (!ctx.has_input(i)) continue;
        if (ctx.input(i).dtype() != DType::kF32) fail_type(ctx, i);
        if (ctx.input(i).dims() != state) {
            ctx.fail("input " + std::to_string(i) + ": expected " + dims_str(state) + ", got " +
                     dims_str(ctx.input(i).dims()));
        }
    }
    return s;
}

std::vector<std::int64_t> sequence_lengths(const KernelContext& ctx, const Shape& s) {
    std::vector<std::int64_t> lens(static_cast<std::size_t>(s.batch), s.seq);
    if (!ctx.has_input(4)) return lens;
    const Tensor& t = ctx.input(4);
    if (t.numel() != s.batch) {
        ctx.fail("input 4 (sequence_lens): expected " + std::to_string(s.batch) + " values, got " +
                 dims_str(t.dims()));
    }
    lens = read_ints(t);
    for (auto v : lens) {
        if (v < 0 || v > s.seq) {
            ctx.fail("input 4 (sequence_lens): value " + std::to_string(v) + " is outside [0, " +
                     std::to_string(s.seq) + "]");
        }
    }
    return lens;
}

void input_projection(const float* x, const float* w, const Shape& s, int gates, float* xw) {
    GemmArgs g;
    g.m = s.seq * s.batch;
    g.n = gates * s.hidden;
    g.k = s.input;
    g.a = x;
    g.lda = s.input;
    g.b = w;
    g.ldb = s.input;
    g.trans_b = true;
    g.c = xw;
    g.ldc = g.n;
    gemm_f32(g);
}

}  // namespace aquant::engine::rnn
