// Scalar reference LSTM and GRU (layout 0, default activations sigmoid/tanh), one batch entry
// and one time step at a time, straight from the ONNX equations. Oracles for
// tests/engine/lstm_test.cpp and gru_test.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace aquant::engine::ref {

struct RnnParams {
    std::int64_t seq = 0, batch = 0, input = 0, hidden = 0, dirs = 1;
    bool reverse = false;  // with dirs == 1
    float clip = 0.0f;     // 0: none
    bool input_forget = false;         // LSTM
    bool linear_before_reset = false;  // GRU
    std::vector<std::int64_t> lens;    // per batch entry; empty: all seq
};

struct RnnResult {
    std::vector<float> y, y_h, y_c;  // [seq, dirs, batch, H], [dirs, batch, H] (y_c: LSTM)
};

inline double rnn_sigmoid_ref(double v) { return 1.0 / (1.0 + std::exp(-v)); }

inline double rnn_clip_ref(const RnnParams& p, double v) {
    return p.clip > 0 ? std::min<double>(p.clip, std::max<double>(-p.clip, v)) : v;
}

/// x [seq, batch, input]; w [dirs, G*H, input]; r [dirs, G*H, H]; b [dirs, 2*G*H] or empty;
/// h0, c0 [dirs, batch, H] or empty; peep [dirs, 3H] or empty. Gate order i, o, f, c.
inline RnnResult lstm_ref(const RnnParams& p, const std::vector<float>& x,
                          const std::vector<float>& w, const std::vector<float>& r,
                          const std::vector<float>& b, const std::vector<float>& h0,
                          const std::vector<float>& c0, const std::vector<float>& peep) {
    const std::int64_t H = p.hidden, I = p.input, G = 4 * H;
    RnnResult res;
    res.y.assign(static_cast<std::size_t>(p.seq * p.dirs * p.batch * H), 0.0f);
    res.y_h.assign(static_cast<std::size_t>(p.dirs * p.batch * H), 0.0f);
    res.y_c = res.y_h;
    for (std::int64_t d = 0; d < p.dirs; ++d) {
        const bool back = p.reverse || d == 1;
        for (std::int64_t bi = 0; bi < p.batch; ++bi) {
            const std::int64_t len = p.lens.empty() ? p.seq : p.lens[static_cast<std::size_t>(bi)];
            std::vector<double> h(static_cast<std::size_t>(H), 0.0), c = h;
            for (std::int64_t j = 0; j < H; ++j) {
                const auto s = static_cast<std::size_t>((d * p.batch + bi) * H + j);
                if (!h0.empty()) h[static_cast<std::size_t>(j)] = h0[s];
                if (!c0.empty()) c[static_cast<std::size_t>(j)] = c0[s];
            }
            for (std::int64_t step = 0; step < len; ++step) {
                const std::int64_t t = back ? len - 1 - step : step;
                std::vector<double> pre(static_cast<std::size_t>(G), 0.0);
                for (std::int64_t g = 0; g < G; ++g) {
                    double v = 0;
                    for (std::int64_t k = 0; k < I; ++k) {
                        v += static_cast<double>(x[static_cast<std::size_t>((t * p.batch + bi) * I + k)]) *
                             w[static_cast<std::size_t>((d * G + g) * I + k)];
                    }
                    for (std::int64_t k = 0; k < H; ++k) {
                        v += h[static_cast<std::size_t>(k)] * r[static_cast<std::size_t>((d * G + g) * H + k)];
                    }
                    if (!b.empty()) {
                        v += static_cast<double>(b[static_cast<std::size_t>(d * 2 * G + g)]) +
                             b[static_cast<std::size_t>(d * 2 * G + G + g)];
                    }
                    pre[static_cast<std::size_t>(g)] = v;
                }
                for (std::int64_t j = 0; j < H; ++j) {
                    const auto J = static_cast<std::size_t>(j);
                    auto pp = [&](std::int64_t k) {
                        return peep.empty() ? 0.0 : static_cast<double>(peep[static_cast<std::size_t>(d * 3 * H + k * H + j)]);
                    };
                    const double it = rnn_sigmoid_ref(rnn_clip_ref(p, pre[J] + pp(0) * c[J]));
                    const double ft = p.input_forget ? 1 - it
                                                     : rnn_sigmoid_ref(rnn_clip_ref(p, pre[static_cast<std::size_t>(2 * H + j)] + pp(2) * c[J]));
                    const double ct = std::tanh(rnn_clip_ref(p, pre[static_cast<std::size_t>(3 * H + j)]));
                    c[J] = ft * c[J] + it * ct;
                    const double ot = rnn_sigmoid_ref(rnn_clip_ref(p, pre[static_cast<std::size_t>(H + j)] + pp(1) * c[J]));
                    h[J] = ot * std::tanh(c[J]);
                    res.y[static_cast<std::size_t>(((t * p.dirs + d) * p.batch + bi) * H + j)] = static_cast<float>(h[J]);
                }
            }
            for (std::int64_t j = 0; j < H; ++j) {
                const auto s = static_cast<std::size_t>((d * p.batch + bi) * H + j);
                res.y_h[s] = static_cast<float>(h[static_cast<std::size_t>(j)]);
                res.y_c[s] = static_cast<float>(c[static_cast<std::size_t>(j)]);
            }
        }
    }
    return res;
}

/// GRU with gate order z, r, h; shapes as lstm_ref with G = 3.
inline RnnResult gru_ref(const RnnParams& p, const std::vector<float>& x,
                         const std::vector<float>& w, const std::vector<float>& r,
                         const std::vector<float>& b, const std::vector<float>& h0) {
    const std::int64_t H = p.hidden, I = p.input, G = 3 * H;
    RnnResult res;
    res.y.assign(static_cast<std::size_t>(p.seq * p.dirs * p.batch * H), 0.0f);
    res.y_h.assign(static_cast<std::size_t>(p.dirs * p.batch * H), 0.0f);
    auto bias = [&](std::int64_t d, std::int64_t k) {
        return b.empty() ? 0.0 : static_cast<double>(b[static_cast<std::size_t>(d * 2 * G + k)]);
    };
    for (std::int64_t d = 0; d < p.dirs; ++d) {
        const bool back = p.reverse || d == 1;
        for (std::int64_t bi = 0; bi < p.batch; ++bi) {
            const std::int64_t len = p.lens.empty() ? p.seq : p.lens[static_cast<std::size_t>(bi)];
            std::vector<double> h(static_cast<std::size_t>(H), 0.0);
            for (std::int64_t j = 0; j < H; ++j) {
                if (!h0.empty()) h[static_cast<std::size_t>(j)] = h0[static_cast<std::size_t>((d * p.batch + bi) * H + j)];
            }
            for (std::int64_t step = 0; step < len; ++step) {
                const std::int64_t t = back ? len - 1 - step : step;
                auto xw = [&](std::int64_t g) {
                    double v = 0;
                    for (std::int64_t k = 0; k < I; ++k) {
                        v += static_cast<double>(x[static_cast<std::size_t>((t * p.batch + bi) * I + k)]) *
                             w[static_cast<std::size_t>((d * G + g) * I + k)];
                    }
                    return v;
                };
                auto hr = [&](std::int64_t g, const std::vector<double>& hv) {
                    double v = 0;
                    for (std::int64_t k = 0; k < H; ++k) {
                        v += hv[static_cast<std::size_t>(k)] * r[static_cast<std::size_t>((d * G + g) * H + k)];
                    }
                    return v;
                };
                std::vector<double> z(static_cast<std::size_t>(H)), rt = z, rh = z, hn = z;
                for (std::int64_t j = 0; j < H; ++j) {
                    const auto J = static_cast<std::size_t>(j);
                    z[J] = rnn_sigmoid_ref(rnn_clip_ref(p, xw(j) + hr(j, h) + bias(d, j) + bias(d, G + j)));
                    rt[J] = rnn_sigmoid_ref(rnn_clip_ref(p, xw(H + j) + hr(H + j, h) + bias(d, H + j) + bias(d, G + H + j)));
                    rh[J] = rt[J] * h[J];
                }
                for (std::int64_t j = 0; j < H; ++j) {
                    const auto J = static_cast<std::size_t>(j);
                    const std::int64_t g = 2 * H + j;
                    const double rec = p.linear_before_reset ? rt[J] * (hr(g, h) + bias(d, G + g))
                                                             : hr(g, rh) + bias(d, G + g);
                    const double ht = std::tanh(rnn_clip_ref(p, xw(g) + bias(d, g) + rec));
                    hn[J] = (1 - z[J]) * ht + z[J] * h[J];
                }
                h = hn;
                for (std::int64_t j = 0; j < H; ++j) {
                    res.y[static_cast<std::size_t>(((t * p.dirs + d) * p.batch + bi) * H + j)] =
                        static_cast<float>(h[static_cast<std::size_t>(j)]);
                }
            }
            for (std::int64_t j = 0; j < H; ++j) {
                res.y_h[static_cast<std::size_t>((d * p.batch + bi) * H + j)] =
                    static_cast<float>(h[static_cast<std::size_t>(j)]);
            }
        }
    }
    return res;
}

}  // namespace aquant::engine::ref
