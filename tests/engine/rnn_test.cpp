// LSTM and GRU kernels vs lstm_ref / gru_ref: forward, reverse, bidirectional, initial states,
// peepholes, input_forget, clip, linear_before_reset, sequence_lens, layout 1 (checked by
// transposing to layout 0). Tolerance 1e-5 * max(1, max|ref|).
#include <gtest/gtest.h>

#include "../../src/engine/reference/rnn_ref.h"
#include "nn_test_util.h"

namespace aquant::engine {
namespace {

using testing::f32;
using testing::near_rel;
using testing::NodeRunner;
using testing::random_floats;
using testing::values;

constexpr double kTol = 1e-5;

struct Case {
    std::int64_t seq, batch, input, hidden;
    std::string direction;
    bool bias, initial, peep, lens;
    float clip;
    bool special;  // input_forget (LSTM) / linear_before_reset (GRU)
};

const std::vector<Case> kCases = {
    {1, 1, 1, 1, "forward", false, false, false, false, 0.0f, false},
    {5, 3, 4, 6, "forward", true, true, false, false, 0.0f, false},
    {7, 2, 3, 5, "reverse", true, false, true, true, 0.0f, false},
    {6, 4, 5, 3, "bidirectional", true, true, true, true, 0.0f, true},
    {4, 2, 7, 8, "bidirectional", true, true, false, false, 0.5f, false},
    {9, 1, 17, 13, "forward", true, true, true, false, 2.0f, true},
};

ref::RnnParams params_of(const Case& c) {
    ref::RnnParams p;
    p.seq = c.seq;
    p.batch = c.batch;
    p.input = c.input;
    p.hidden = c.hidden;
    p.dirs = c.direction == "bidirectional" ? 2 : 1;
    p.reverse = c.direction == "reverse";
    p.clip = c.clip;
    if (c.lens) {
        for (std::int64_t b = 0; b < c.batch; ++b) p.lens.push_back(c.seq - (b * 2) % c.seq);
    }
    return p;
}

std::string describe(const Case& c) {
    return "seq " + std::to_string(c.seq) + " batch " + std::to_string(c.batch) + " input " +
           std::to_string(c.input) + " hidden " + std::to_string(c.hidden) + " " + c.direction +
           (c.bias ? " bias" : "") + (c.initial ? " initial" : "") + (c.peep ? " peep" : "") +
           (c.lens ? " lens" : "") + " clip " + std::to_string(c.clip) +
           (c.special ? " special" : "");
}

// [A, B, rest...] -> [B, A, rest...] for the first two axes.
std::vector<float> swap01(const std::vector<float>& v, std::int64_t a, std::int64_t b,
                          std::int64_t rest) {
    std::vector<float> out(v.size());
    for (std::int64_t i = 0; i < a; ++i) {
        for (std::int64_t j = 0; j < b; ++j) {
            for (std::int64_t k = 0; k < rest; ++k) {
                out[static_cast<std::size_t>((j * a + i) * rest + k)] =
                    v[static_cast<std::size_t>((i * b + j) * rest + k)];
            }
        }
    }
    return out;
}

void check(const Case& c, bool lstm, bool layout1, std::uint32_t seed) {
    ref::RnnParams p = params_of(c);
    const std::int64_t g = lstm ? 4 : 3, H = c.hidden, D = p.dirs;
    if (lstm) {
        p.input_forget = c.special;
    } else {
        p.linear_before_reset = c.special;
    }
    const auto x = random_floats(static_cast<std::size_t>(c.seq * c.batch * c.input), seed);
    const auto w = random_floats(static_cast<std::size_t>(D * g * H * c.input), seed + 1);
    const auto r = random_floats(static_cast<std::size_t>(D * g * H * H), seed + 2);
    const auto b = c.bias ? random_floats(static_cast<std::size_t>(D * 2 * g * H), seed + 3)
                          : std::vector<float>{};
    const auto h0 = c.initial ? random_floats(static_cast<std::size_t>(D * c.batch * H), seed + 4)
                              : std::vector<float>{};
    const auto c0 = c.initial && lstm
                        ? random_floats(static_cast<std::size_t>(D * c.batch * H), seed + 5)
                        : std::vector<float>{};
    const auto peep = c.peep && lstm ? random_floats(static_cast<std::size_t>(D * 3 * H), seed + 6)
                                     : std::vector<float>{};
    const ref::RnnResult want = lstm ? ref::lstm_ref(p, x, w, r, b, h0, c0, peep)
                                     : ref::gru_ref(p, x, w, r, b, h0);
    NodeRunner run(lstm ? "LSTM" : "GRU", 14);
    run.input(layout1 ? f32({c.batch, c.seq, c.input}, swap01(x, c.seq, c.batch, c.input))
                      : f32({c.seq, c.batch, c.input}, x));
    run.input(f32({D, g * H, c.input}, w), true).input(f32({D, g * H, H}, r), true);
    if (c.bias) {
        run.input(f32({D, 2 * g * H}, b), true);
    } else {
        run.absent();
    }
    if (c.lens) {
        std::vector<std::int32_t> lens(p.lens.begin(), p.lens.end());
        run.input(Tensor::from_vector<std::int32_t>({c.batch}, lens));
    } else {
        run.absent();
    }
    auto state = [&](const std::vector<float>& v) {
        return layout1 ? f32({c.batch, D, H}, swap01(v, D, c.batch, H)) : f32({D, c.batch, H}, v);
    };
    if (c.initial) {
        run.input(state(h0));
        if (lstm) run.input(state(c0));
    } else if (lstm && c.peep) {
        run.absent().absent();
    }
    if (lstm && c.peep) run.input(f32({D, 3 * H}, peep), true);
    run.attr("hidden_size", H).attr("direction", c.direction);
    if (c.clip > 0) run.attr("clip", c.clip);
    if (c.special) run.attr(lstm ? "input_forget" : "linear_before_reset", std::int64_t{1});
    if (layout1) run.attr("layout", std::int64_t{1});
    run.outputs(lstm ? 3 : 2);
    const auto outs = run.run();
    const std::string what = std::string(lstm ? "LSTM " : "GRU ") + describe(c) +
                             (layout1 ? " layout 1" : "") + " seed " + std::to_string(seed);
    std::vector<float> y = values(outs[0]), yh = values(outs[1]);
    if (layout1) {
        // [batch, seq, dirs, H] -> [seq, dirs, batch, H] via [seq, batch, dirs, H].
        const auto sbdh = swap01(y, c.batch, c.seq, D * H);
        y.clear();
        for (std::int64_t t = 0; t < c.seq; ++t) {
            std::vector<float> step(sbdh.begin() + t * c.batch * D * H,
                                    sbdh.begin() + (t + 1) * c.batch * D * H);
            const auto dbh = swap01(step, c.batch, D, H);
            y.insert(y.end(), dbh.begin(), dbh.end());
        }
        yh = swap01(yh, c.batch, D, H);
    }
    EXPECT_TRUE(near_rel(y, want.y, kTol, what + " Y"));
    EXPECT_TRUE(near_rel(yh, want.y_h, kTol, what + " Y_h"));
    if (lstm) {
        std::vector<float> yc = values(outs[2]);
        if (layout1) yc = swap01(yc, c.batch, D, H);
        EXPECT_TRUE(near_rel(yc, want.y_c, kTol, what + " Y_c"));
    }
}

TEST(Lstm, MatchesReference) {
    std::uint32_t seed = 1000;
    for (const auto& c : kCases) {
        check(c, true, false, seed += 10);
        check(c, true, true, seed += 10);
    }
}

TEST(Gru, MatchesReference) {
    std::uint32_t seed = 2000;
    for (const auto& c : kCases) {
        check(c, false, false, seed += 10);
        check(c, false, true, seed += 10);
    }
}

TEST(Lstm, RejectsWrongWeightShape) {
    NodeRunner run("LSTM", 14);
    run.input(f32({2, 1, 3}, std::vector<float>(6)))
        .input(f32({1, 8, 3}, std::vector<float>(24)), true)
        .input(f32({1, 8, 2}, std::vector<float>(16)), true)
        .attr("hidden_size", std::int64_t{3});
    EXPECT_THROW(run.run(), ModelError);
}

}  // namespace
}  // namespace aquant::engine
