#include "aquant/pipeline/inspect.h"

#include <iomanip>
#include <sstream>

#include "aquant/engine/executor.h"
#include "aquant/io/onnx_reader.h"
#include "aquant/ir/layers.h"

namespace aquant::pipeline {
namespace {

nlohmann::json value_json(const ir::Graph& g, ir::ValueId v) {
    const ir::Value& val = g.value(v);
    nlohmann::json j;
    j["name"] = val.name;
    if (val.type) {
        j["type"] = std::string(dtype_name(val.type->elem_type));
        if (val.type->shape) {
            nlohmann::json dims = nlohmann::json::array();
            for (const auto& d : *val.type->shape) {
                if (d.known()) {
                    dims.push_back(d.value);
                } else {
                    dims.push_back(d.param.empty() ? "?" : d.param);
                }
            }
            j["shape"] = dims;
        }
        j["display"] = val.type->str();
    } else {
        j["type"] = "unknown";
        j["display"] = "?";
    }
    return j;
}

std::int64_t count_parameters(const ir::Graph& g) {
    std::int64_t n = 0;
    for (ir::ValueId v : g.initializers) n += g.value(v).initializer->numel();
    for (const auto& node : g.nodes()) {
        if (node.removed || node.op_type != "Constant") continue;
        const auto* a = node.find_attr("value");
        if (a && a->type == ir::AttrType::kTensor) n += a->t.numel();
    }
    return n;
}

}  // namespace

nlohmann::json inspect_model(const std::string& path) {
    const auto model = io::read_model(path);
    const ir::Graph& g = *model->graph;
    nlohmann::json j;
    j["file"] = path;
    j["ir_version"] = model->ir_version;
    j["producer"] = model->producer_name + (model->producer_version.empty()
                                                ? std::string()
                                                : " " + model->producer_version);
    nlohmann::json opsets = nlohmann::json::object();
    for (const auto& o : model->opset_import) {
        opsets[o.domain.empty() ? "ai.onnx" : o.domain] = o.version;
    }
    j["opsets"] = opsets;
    j["inputs"] = nlohmann::json::array();
    for (ir::ValueId v : g.real_inputs()) j["inputs"].push_back(value_json(g, v));
    j["outputs"] = nlohmann::json::array();
    for (ir::ValueId v : g.outputs) j["outputs"].push_back(value_json(g, v));
    j["nodes"] = g.node_ids().size();
    j["op_histogram"] = ir::op_histogram(g);
    j["parameters"] = count_parameters(g);
    std::int64_t bytes = 0;
    for (ir::ValueId v : g.initializers) bytes += g.value(v).initializer->size_bytes();
    j["initializer_bytes"] = bytes;
    nlohmann::json layers = nlohmann::json::array();
    std::int64_t quantizable = 0;
    for (const auto& l : ir::quantizable_layers(g)) {
        const ir::Node& n = g.node(l.node);
        const Tensor* w = g.constant(l.weight_source);
        nlohmann::json lj;
        lj["name"] = n.name;
        lj["op"] = n.op_type;
        lj["weight"] = g.value(l.weight_source).name;
        lj["weight_shape"] = w->dims();
        lj["params"] = l.params;
        if (l.via_chain) lj["via"] = g.node(g.producer(l.weight)).op_type;
        quantizable += l.params;
        layers.push_back(lj);
    }
    j["quantizable_layers"] = layers;
    j["quantizable_parameters"] = quantizable;
    j["unsupported"] = engine::unsupported_nodes(*model);
    if (const auto v = model->metadata("aquant.version")) j["quantized_by"] = "aquant " + *v;
    return j;
}

std::string format_inspect(const nlohmann::json& j) {
    std::ostringstream os;
    os << j["file"].get<std::string>() << "\n";
    os << "  IR version " << j["ir_version"] << ", producer '" << j["producer"].get<std::string>()
       << "'\n  opsets:";
    for (auto it = j["opsets"].begin(); it != j["opsets"].end(); ++it) {
        os << " " << it.key() << "=" << it.value();
    }
    os << "\n  inputs:\n";
    for (const auto& v : j["inputs"]) {
        os << "    " << v["name"].get<std::string>() << "  " << v["display"].get<std::string>()
           << "\n";
    }
    os << "  outputs:\n";
    for (const auto& v : j["outputs"]) {
        os << "    " << v["name"].get<std::string>() << "  " << v["display"].get<std::string>()
           << "\n";
    }
    os << "  nodes: " << j["nodes"] << ", parameters: " << j["parameters"]
       << " (" << j["initializer_bytes"] << " bytes in initializers)\n";
    os << "  op histogram:\n";
    for (auto it = j["op_histogram"].begin(); it != j["op_histogram"].end(); ++it) {
        os << "    " << std::left << std::setw(28) << it.key() << std::right << std::setw(6)
           << it.value().get<int>() << "\n";
    }
    os << "  quantizable layers: " << j["quantizable_layers"].size() << " ("
       << j["quantizable_parameters"] << " weights)\n";
    for (const auto& l : j["quantizable_layers"]) {
        std::string shape = "[";
        for (std::size_t i = 0; i < l["weight_shape"].size(); ++i) {
            if (i) shape += ",";
            shape += std::to_string(l["weight_shape"][i].get<std::int64_t>());
        }
        shape += "]";
        os << "    " << std::left << std::setw(32) << l["name"].get<std::string>() << std::setw(14)
           << l["op"].get<std::string>() << std::setw(18) << shape << std::right << std::setw(10)
           << l["params"].get<std::int64_t>();
        if (l.contains("via")) os << "  (weight via " << l["via"].get<std::string>() << ")";
        os << "\n";
    }
    if (j["unsupported"].empty()) {
        os << "  engine: every node is supported\n";
    } else {
        os << "  engine cannot run " << j["unsupported"].size() << " node(s):";
        for (const auto& u : j["unsupported"]) os << " " << u.get<std::string>() << ";";
        os << "\n";
    }
    return os.str();
}

}  // namespace aquant::pipeline
