#include "aquant/alloc/mckp.h"

#include "aquant/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace aquant::alloc::mckp {

namespace {

void check_problem(const Problem& p) {
    for (std::size_t g = 0; g < p.groups.size(); ++g) {
        if (p.groups[g].empty())
            throw InternalError(fmt::format("mckp: group {} has no option", g));
        for (const Option& o : p.groups[g]) {
            if (!(std::isfinite(o.size) && o.size >= 0.0 && std::isfinite(o.cost))) {
                throw InternalError(fmt::format(
                    "mckp: group {}: option (size {}, cost {}) expected finite, size >= 0", g,
                    o.size, o.cost));
            }
        }
    }
}

void check_capacity(const Problem& p, double capacity) {
    const double lo = min_size(p);
    if (!(capacity >= lo)) {
        throw ConfigError(
            fmt::format("mckp: capacity {} is below the smallest plan, {}", capacity, lo));
    }
}

int smallest_option(const std::vector<Option>& options) {
    int best = 0;
    for (int k = 1; k < static_cast<int>(options.size()); ++k) {
        const Option& a = options[k];
        const Option& b = options[best];
        if (a.size < b.size || (a.size == b.size && a.cost <= b.cost))
            best = k;
    }
    return best;
}

struct Segment {
    int group;
    int vertex;  // hull vertex reached by taking the segment
    double slope;
};

}  // namespace

double min_size(const Problem& p) {
    double s = 0.0;
    for (const auto& g : p.groups) {
        double m = std::numeric_limits<double>::infinity();
        for (const Option& o : g)
            m = std::min(m, o.size);
        s += m;
    }
    return s;
}

double total_cost(const Problem& p, const std::vector<int>& choice) {
    double c = 0.0;
    for (std::size_t g = 0; g < p.groups.size(); ++g)
        c += p.groups[g][choice[g]].cost;
    return c;
}

double total_size(const Problem& p, const std::vector<int>& choice) {
    double s = 0.0;
    for (std::size_t g = 0; g < p.groups.size(); ++g)
        s += p.groups[g][choice[g]].size;
    return s;
}

std::vector<int> lower_hull(const std::vector<Option>& options) {
    std::vector<int> order(options.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        if (options[a].size != options[b].size)
            return options[a].size < options[b].size;
        if (options[a].cost != options[b].cost)
            return options[a].cost < options[b].cost;
        return a > b;
    });
    std::vector<int> hull;
    for (int k : order) {
        const Option& c = options[k];
        if (!hull.empty() && !(c.cost < options[hull.back()].cost))
            continue;  // dominated: no cheaper than a smaller option
        // Drop the last vertex while it lies above the chord from its predecessor to c.
        while (hull.size() >= 2) {
            const Option& a = options[hull[hull.size() - 2]];
            const Option& b = options[hull.back()];
            if ((a.cost - b.cost) * (c.size - b.size) < (b.cost - c.cost) * (b.size - a.size)) {
                hull.pop_back();
            } else {
                break;
            }
        }
        hull.push_back(k);
    }
    return hull;
}

LagrangianPoint lagrangian_point(const Problem& p, double capacity) {
    check_problem(p);
    check_capacity(p, capacity);
    std::vector<std::vector<int>> hulls;
    hulls.reserve(p.groups.size());
    std::vector<Segment> segments;
    for (int g = 0; g < static_cast<int>(p.groups.size()); ++g) {
        hulls.push_back(lower_hull(p.groups[g]));
        const auto& h = hulls.back();
        for (int j = 1; j < static_cast<int>(h.size()); ++j) {
            const Option& a = p.groups[g][h[j - 1]];
            const Option& b = p.groups[g][h[j]];
            segments.push_back({g, j, (a.cost - b.cost) / (b.size - a.size)});
        }
    }
    std::stable_sort(segments.begin(), segments.end(),
                     [](const Segment& a, const Segment& b) { return a.slope > b.slope; });

    LagrangianPoint pt;
    pt.choice.resize(p.groups.size());
    for (std::size_t g = 0; g < p.groups.size(); ++g)
        pt.choice[g] = hulls[g][0];
    for (const Segment& s : segments) {
        const int from = pt.choice[s.group];
        const int to = hulls[s.group][s.vertex];
        pt.choice[s.group] = to;
        // A fresh sum, not a running one: the same rounding as every other size check.
        if (total_size(p, pt.choice) > capacity) {
            pt.choice[s.group] = from;
            pt.lambda = s.slope;
            pt.critical_cost_drop = p.groups[s.group][from].cost - p.groups[s.group][to].cost;
            break;
        }
    }
    pt.cost = total_cost(p, pt.choice);
    pt.size = total_size(p, pt.choice);
    pt.lower_bound = pt.cost - pt.lambda * std::max(0.0, capacity - pt.size);
    return pt;
}

void improve(const Problem& p, double capacity, std::vector<int>& choice) {
    for (;;) {
        const double size = total_size(p, choice);
        double best_gain = 0.0;
        int best_g = -1;
        int best_k = -1;
        for (int g = 0; g < static_cast<int>(p.groups.size()); ++g) {
            const auto& opts = p.groups[g];
            const Option& cur = opts[choice[g]];
            for (int k = static_cast<int>(opts.size()) - 1; k >= 0; --k) {
                if (k == choice[g] || size - cur.size + opts[k].size > capacity)
                    continue;
                const double gain = cur.cost - opts[k].cost;
                if (!(gain > best_gain))
                    continue;
                // Confirm with a fresh sum, the rounding every other size check uses.
                const int keep = choice[g];
                choice[g] = k;
                const bool fits = total_size(p, choice) <= capacity;
                choice[g] = keep;
                if (fits) {
                    best_gain = gain;
                    best_g = g;
                    best_k = k;
                }
            }
        }
        if (best_g < 0)
            return;
        choice[best_g] = best_k;
    }
}

void descend(const Problem& p, double capacity, std::vector<int>& choice) {
    check_capacity(p, capacity);
    for (double size = total_size(p, choice); size > capacity; size = total_size(p, choice)) {
        double best_ratio = std::numeric_limits<double>::infinity();
        int best_g = -1;
        int best_k = -1;
        for (int g = static_cast<int>(p.groups.size()) - 1; g >= 0; --g) {
            const auto& opts = p.groups[g];
            const Option& cur = opts[choice[g]];
            for (int k = static_cast<int>(opts.size()) - 1; k >= 0; --k) {
                if (!(opts[k].size < cur.size))
                    continue;
                const double ratio = (opts[k].cost - cur.cost) / (cur.size - opts[k].size);
                if (ratio < best_ratio || best_g < 0) {
                    best_ratio = ratio;
                    best_g = g;
                    best_k = k;
                }
            }
        }
        if (best_g < 0)
            throw InternalError("mckp: descend found no smaller option above the minimum size");
        choice[best_g] = best_k;
    }
}

Solution solve_lagrangian(const Problem& p, double capacity) {
    LagrangianPoint pt = lagrangian_point(p, capacity);
    Solution s;
    s.choice = std::move(pt.choice);
    improve(p, capacity, s.choice);
    s.cost = total_cost(p, s.choice);
    s.size = total_size(p, s.choice);
    s.lower_bound = pt.lower_bound;
    s.method = "lagrangian + fill";
    return s;
}

Solution solve_greedy(const Problem& p, double capacity) {
    check_problem(p);
    Solution s;
    s.choice.resize(p.groups.size());
    for (std::size_t g = 0; g < p.groups.size(); ++g) {
        const auto& opts = p.groups[g];
        int best = 0;
        for (int k = 1; k < static_cast<int>(opts.size()); ++k) {
            if (opts[k].size >= opts[best].size)
                best = k;
        }
        s.choice[g] = best;
    }
    descend(p, capacity, s.choice);
    improve(p, capacity, s.choice);
    s.cost = total_cost(p, s.choice);
    s.size = total_size(p, s.choice);
    s.lower_bound = lagrangian_point(p, capacity).lower_bound;
    s.method = "greedy marginal + fill";
    return s;
}

namespace {

constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

/// The DP unit for sizes above each group's minimum; see solve_dp().
DpStats choose_unit(const std::vector<std::vector<double>>& extra, std::int64_t options,
                    std::int64_t max_cell_updates) {
    DpStats st;
    double extra_max = 0.0;
    bool integral = true;
    std::int64_t g = 0;
    for (const auto& e : extra) {
        double m = 0.0;
        for (double x : e) {
            m = std::max(m, x);
            if (x != std::floor(x) || x > kMaxExactInteger) {
                integral = false;
            } else if (integral) {
                g = std::gcd(g, static_cast<std::int64_t>(x));
            }
        }
        extra_max += m;
    }
    if (extra_max == 0.0) {
        st.unit = 1.0;
        st.exact = true;
        return st;
    }
    // units + 1 cells per option; ceil() adds at most one unit per group in the rounded path.
    const double max_units = std::max(1.0, static_cast<double>(max_cell_updates / options) - 1.0 -
                                               static_cast<double>(extra.size()));
    if (integral && g > 0 && extra_max / static_cast<double>(g) <= max_units + extra.size()) {
        st.unit = static_cast<double>(g);
        st.exact = true;
        return st;
    }
    st.unit = extra_max / std::max(1.0, max_units);
    return st;
}

}  // namespace

Solution solve_dp(const Problem& p, double capacity, const DpOptions& options, DpStats* stats) {
    check_problem(p);
    check_capacity(p, capacity);
    const int n = static_cast<int>(p.groups.size());
    std::vector<double> base(n);
    std::vector<std::vector<double>> extra(n);
    std::int64_t n_options = 0;
    for (int g = 0; g < n; ++g) {
        const auto& opts = p.groups[g];
        if (opts.size() > 255)
            throw InternalError(
                fmt::format("mckp: group {} has {} options, at most 255", g, opts.size()));
        base[g] = opts[smallest_option(opts)].size;
        for (const Option& o : opts)
            extra[g].push_back(o.size - base[g]);
        n_options += static_cast<std::int64_t>(opts.size());
    }
    // The rounded unit can add one unit per group, so no limit below (groups + 2) * options.
    DpStats st = choose_unit(extra, std::max<std::int64_t>(n_options, 1),
                             std::max<std::int64_t>(options.max_cell_updates, (n + 2) * n_options));

    // Integer weights, rounded up; with an exact unit the division is exact.
    std::vector<std::vector<std::int64_t>> w(n);
    std::int64_t w_total = 0;
    for (int g = 0; g < n; ++g) {
        std::int64_t wmax = 0;
        for (double e : extra[g]) {
            auto k = static_cast<std::int64_t>(std::ceil(e / st.unit));
            if (static_cast<double>(k) * st.unit < e)
                ++k;
            w[g].push_back(k);
            wmax = std::max(wmax, k);
        }
        w_total += wmax;
    }
    double room = capacity;
    for (int g = 0; g < n; ++g)
        room -= base[g];
    double room_units = std::floor(room / st.unit);
    if (!st.exact)
        room_units = std::floor(room / st.unit * (1.0 - 1e-9));  // margin for rounded products
    room_units = std::min(room_units, static_cast<double>(w_total));
    while (room_units > 0 && room_units * st.unit > room)
        room_units -= 1.0;
    const auto units = static_cast<std::int64_t>(std::max(0.0, room_units));
    st.units = units;

    // best[u]: least cost of groups g..n-1 within u units; groups processed last to first so the
    // backtrack decides group 0 first and its ties go to the larger option index.
    const std::size_t width = static_cast<std::size_t>(units) + 1;
    std::vector<double> next(width, 0.0);
    std::vector<double> cur(width);
    std::vector<std::uint8_t> pick(static_cast<std::size_t>(n) * width);
    for (int g = n - 1; g >= 0; --g) {
        const auto& opts = p.groups[g];
        for (std::int64_t u = 0; u <= units; ++u) {
            double best = std::numeric_limits<double>::infinity();
            int best_k = -1;
            for (int k = static_cast<int>(opts.size()) - 1; k >= 0; --k) {
                if (w[g][k] > u)
                    continue;
                const double c = opts[k].cost + next[u - w[g][k]];
                if (c < best) {
                    best = c;
                    best_k = k;
                }
            }
            cur[u] = best;
            pick[g * width + u] = static_cast<std::uint8_t>(best_k);
        }
        st.cell_updates += static_cast<std::int64_t>(opts.size()) * (units + 1);
        std::swap(cur, next);
    }

    Solution s;
    s.choice.resize(n);
    std::int64_t u = units;
    for (int g = 0; g < n; ++g) {
        const int k = pick[g * width + u];
        s.choice[g] = k;
        u -= w[g][k];
    }
    if (total_size(p, s.choice) > capacity)
        descend(p, capacity, s.choice);  // unreachable unless sizes lose precision
    s.cost = total_cost(p, s.choice);
    s.size = total_size(p, s.choice);
    s.lower_bound = lagrangian_point(p, capacity).lower_bound;
    s.method = fmt::format("dp {}(unit {:g} size bits)", st.exact ? "exact " : "", st.unit);
    if (stats)
        *stats = st;
    return s;
}

}  // namespace aquant::alloc::mckp
