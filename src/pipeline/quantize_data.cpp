#include "aquant/core/log.h"
#include "aquant/data/sidecar.h"
#include "quantize_steps.h"

namespace aquant::pipeline::detail {
namespace {

data::DatasetPtr open_split(const ir::Graph& g, const QuantizeOptions& o, DataOptions d,
                            Split split) {
    return open_model_data(g, o.model_path, d, split);
}

}  // namespace

QuantizeData open_quantize_data(const ir::Graph& g, const QuantizeOptions& o) {
    if (o.calib_samples < 1) {
        throw ConfigError("--calib-samples: expected >= 1, got " + std::to_string(o.calib_samples));
    }
    const bool sidecar = data::find_sidecar(o.model_path).has_value();
    const bool have_calib = !o.calib.path.empty() || sidecar;
    const bool have_eval = !o.eval.path.empty() || sidecar;
    QuantizeData d;
    if (have_calib && (have_eval || !o.evaluate)) {
        DataOptions c = o.calib;
        if (!c.limit) c.limit = o.calib_samples;
        d.calib = open_split(g, o, c, Split::kCalib);
        if (o.evaluate) d.eval = open_split(g, o, o.eval, Split::kEval);
        return d;
    }
    if (!have_calib && !have_eval) {
        throw ConfigError(o.model_path +
                          ": no data: pass --calib DATA (and --eval DATA), or put a sidecar "
                          "file next to the model");
    }
    // One data set for both: calibrate on its head, evaluate on the rest.
    const DataOptions& given = have_calib ? o.calib : o.eval;
    const data::DatasetPtr all = open_split(g, o, given, have_calib ? Split::kCalib : Split::kEval);
    if (all->size() <= o.calib_samples) {
        throw ConfigError(given.path + ": " + std::to_string(all->size()) +
                          " samples, not enough to split off --calib-samples " +
                          std::to_string(o.calib_samples) + " and keep evaluation data");
    }
    logger().warn("one data set for calibration and evaluation: the first {} samples calibrate, "
                  "the other {} evaluate",
                  o.calib_samples, all->size() - o.calib_samples);
    const data::DatasetSplit s = data::split_dataset(all, o.calib_samples);
    d.calib = s.calib;
    d.eval = s.eval;
    return d;
}

}  // namespace aquant::pipeline::detail
