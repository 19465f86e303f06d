#include "aquant/io/onnx_writer.h"

#include "io/atomic_file.h"
#include "io/proto_convert.h"

#include "aquant/core/log.h"
#include "aquant/ir/verify.h"

#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

namespace aquant::io {
namespace {

namespace fs = std::filesystem;

// Bytes a raw_data field adds besides the data: tag, length varint, and growth of the length
// varints of the enclosing messages (tensor, attribute, node, graph). Generous on purpose.
constexpr std::uint64_t kFieldOverheadBytes = 32;
// Bytes an external_data entry (location/offset/length) adds in place of the data.
constexpr std::uint64_t kExternalEntryBytes = 96;
constexpr std::uint64_t kPageAlignBytes = 4096;
constexpr std::uint64_t kSmallAlignBytes = 64;
constexpr std::uint64_t kPageAlignFromBytes = 1 << 20;

// A tensor whose data is filled in after planning.
struct TensorSlot {
    onnx::TensorProto* proto;
    const Tensor* tensor;
};

class Builder {
public:
    void model(const ir::Model& m, onnx::ModelProto* mp);

    std::vector<TensorSlot>& slots() { return slots_; }

private:
    void graph(const ir::Graph& g, onnx::GraphProto* gp);
    void node(const ir::Graph& g, const ir::Node& n, onnx::NodeProto* np);
    void attribute(const ir::Attribute& a, onnx::AttributeProto* ap);
    void tensor(const Tensor& t, onnx::TensorProto* tp);

    std::vector<TensorSlot> slots_;
};

template <typename Msg>
void parse_opaque(const std::string& bytes, Msg* msg, const char* what) {
    if (!msg->ParseFromString(bytes)) {
        throw InternalError(std::string("opaque ") + what + " does not parse as protobuf");
    }
}

void value_info(const ir::Value& v, onnx::ValueInfoProto* vi) {
    vi->set_name(v.name);
    if (v.type) {
        detail::type_to_proto(*v.type, vi->mutable_type());
    }
    if (!v.doc_string.empty()) {
        vi->set_doc_string(v.doc_string);
    }
}

std::string value_name(const ir::Graph& g, ir::ValueId v) {
    return v.valid() ? g.value(v).name : std::string();
}

void Builder::tensor(const Tensor& t, onnx::TensorProto* tp) {
    const bool strings = t.dtype() == DType::kString;
    detail::tensor_to_proto(t, tp, /*with_data=*/strings);
    if (!strings) {
        slots_.push_back({tp, &t});
    }
}

void Builder::attribute(const ir::Attribute& a, onnx::AttributeProto* ap) {
    ap->set_name(a.name);
    if (!a.ref_attr_name.empty()) {
        ap->set_ref_attr_name(a.ref_attr_name);
    }
    if (!a.doc_string.empty()) {
        ap->set_doc_string(a.doc_string);
    }
    if (a.type != ir::AttrType::kUndefined) {
        ap->set_type(static_cast<onnx::AttributeProto::AttributeType>(a.type));
    }
    switch (a.type) {
        case ir::AttrType::kFloat:
            ap->set_f(a.f);
            break;
        case ir::AttrType::kInt:
            ap->set_i(a.i);
            break;
        case ir::AttrType::kString:
            ap->set_s(a.s);
            break;
        case ir::AttrType::kTensor:
            if (a.t.defined()) {
                tensor(a.t, ap->mutable_t());
            }
            break;
        case ir::AttrType::kGraph:
            if (a.g) {
                graph(*a.g, ap->mutable_g());
            }
            break;
        case ir::AttrType::kFloats:
            for (float f : a.floats) {
                ap->add_floats(f);
            }
            break;
        case ir::AttrType::kInts:
            for (auto i : a.ints) {
                ap->add_ints(i);
            }
            break;
        case ir::AttrType::kStrings:
            for (const auto& s : a.strings) {
                ap->add_strings(s);
            }
            break;
        case ir::AttrType::kTensors:
            for (const auto& t : a.tensors) {
                tensor(t, ap->add_tensors());
            }
            break;
        case ir::AttrType::kGraphs:
            for (const auto& sg : a.graphs) {
                graph(*sg, ap->add_graphs());
            }
            break;
        case ir::AttrType::kSparseTensor:
            if (!a.opaque.empty()) {
                parse_opaque(a.opaque[0], ap->mutable_sparse_tensor(), "sparse tensor");
            }
            break;
        case ir::AttrType::kSparseTensors:
            for (const auto& o : a.opaque) {
                parse_opaque(o, ap->add_sparse_tensors(), "sparse tensor");
            }
            break;
        case ir::AttrType::kTypeProto:
            if (!a.opaque.empty()) {
                parse_opaque(a.opaque[0], ap->mutable_tp(), "type proto");
            }
            break;
        case ir::AttrType::kTypeProtos:
            for (const auto& o : a.opaque) {
                parse_opaque(o, ap->add_type_protos(), "type proto");
            }
            break;
        default:
            break;
    }
}

void Builder::node(const ir::Graph& g, const ir::Node& n, onnx::NodeProto* np) {
    for (ir::ValueId v : n.inputs) {
        np->add_input(value_name(g, v));
    }
    for (ir::ValueId v : n.outputs) {
        np->add_output(value_name(g, v));
    }
    if (!n.name.empty()) {
        np->set_name(n.name);
    }
    np->set_op_type(n.op_type);
    if (!n.domain.empty()) {
        np->set_domain(n.domain);
    }
    if (!n.doc_string.empty()) {
        np->set_doc_string(n.doc_string);
    }
    for (const auto& a : n.attributes) {
        attribute(a, np->add_attribute());
    }
}

void Builder::graph(const ir::Graph& g, onnx::GraphProto* gp) {
    // Nodes in topological order (the identity for an already sorted graph), as ONNX requires.
    for (ir::NodeId id : g.topological_order()) {
        node(g, g.node(id), gp->add_node());
    }
    if (!g.name.empty()) {
        gp->set_name(g.name);
    }
    // Every value holding an initializer is written: listed ones first, in their order.
    std::set<std::int32_t> listed;
    auto add_init = [&](ir::ValueId id) {
        const ir::Value& v = g.value(id);
        if (!v.initializer || !listed.insert(id.index).second) {
            return;
        }
        onnx::TensorProto* tp = gp->add_initializer();
        tp->set_name(v.name);
        tensor(*v.initializer, tp);
    };
    for (ir::ValueId id : g.initializers) {
        add_init(id);
    }
    for (std::size_t i = 0; i < g.num_values(); ++i) {
        add_init(ir::ValueId{static_cast<std::int32_t>(i)});
    }
    for (const auto& s : g.opaque_sparse_initializers) {
        parse_opaque(s, gp->add_sparse_initializer(), "sparse initializer");
    }
    if (!g.doc_string.empty()) {
        gp->set_doc_string(g.doc_string);
    }
    for (ir::ValueId v : g.inputs) {
        value_info(g.value(v), gp->add_input());
    }
    for (ir::ValueId v : g.outputs) {
        value_info(g.value(v), gp->add_output());
    }
    for (ir::ValueId v : g.value_infos) {
        value_info(g.value(v), gp->add_value_info());
    }
    for (const auto& qa : g.quantization_annotations) {
        parse_opaque(qa, gp->add_quantization_annotation(), "quantization annotation");
    }
}

void Builder::model(const ir::Model& m, onnx::ModelProto* mp) {
    mp->set_ir_version(m.ir_version);
    for (const auto& o : m.opset_import) {
        auto* op = mp->add_opset_import();
        op->set_domain(o.domain);
        op->set_version(o.version);
    }
    if (!m.producer_name.empty()) {
        mp->set_producer_name(m.producer_name);
    }
    if (!m.producer_version.empty()) {
        mp->set_producer_version(m.producer_version);
    }
    if (!m.domain.empty()) {
        mp->set_domain(m.domain);
    }
    if (m.model_version != 0) {
        mp->set_model_version(m.model_version);
    }
    if (!m.doc_string.empty()) {
        mp->set_doc_string(m.doc_string);
    }
    graph(*m.graph, mp->mutable_graph());
    for (const auto& kv : m.metadata_props) {
        auto* p = mp->add_metadata_props();
        p->set_key(kv.first);
        p->set_value(kv.second);
    }
    for (const auto& t : m.opaque_training_info) {
        parse_opaque(t, mp->add_training_info(), "training info");
    }
    for (const auto& f : m.opaque_functions) {
        parse_opaque(f, mp->add_functions(), "function");
    }
}

void fill_inline(const TensorSlot& s) {
    s.proto->set_raw_data(static_cast<const char*>(s.tensor->raw()), s.tensor->size_bytes());
}

void check_size(const onnx::ModelProto& mp) {
    const std::size_t bytes = mp.ByteSizeLong();
    if (bytes > kProtobufLimitBytes) {
        throw ModelError("the serialized model is " + std::to_string(bytes) +
                         " bytes, over the 2 GiB protobuf limit");
    }
}

bool same_file(const std::string& a, const std::string& b) {
    std::error_code ec;
    if (fs::exists(a, ec) && fs::exists(b, ec)) {
        return fs::equivalent(a, b, ec);
    }
    return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

void add_entry(onnx::TensorProto* tp, const char* key, const std::string& value) {
    auto* kv = tp->add_external_data();
    kv->set_key(key);
    kv->set_value(value);
}

}  // namespace

ExternalDataPlan plan_external_data(const std::vector<std::uint64_t>& tensor_bytes,
                                    std::uint64_t other_bytes, const WriteOptions& options) {
    ExternalDataPlan plan;
    plan.external.assign(tensor_bytes.size(), false);
    plan.offsets.assign(tensor_bytes.size(), 0);
    std::uint64_t inline_total = other_bytes;
    for (auto b : tensor_bytes) {
        inline_total += b + kFieldOverheadBytes;
    }
    plan.model_bytes_estimate = inline_total;
    if (!options.force_external && inline_total <= kProtobufLimitBytes) {
        return plan;
    }

    std::uint64_t offset = 0;
    for (std::size_t i = 0; i < tensor_bytes.size(); ++i) {
        const std::uint64_t b = tensor_bytes[i];
        if (b < options.external_threshold_bytes) {
            continue;
        }
        const std::uint64_t align = b >= kPageAlignFromBytes ? kPageAlignBytes : kSmallAlignBytes;
        offset = (offset + align - 1) / align * align;
        plan.external[i] = true;
        plan.offsets[i] = offset;
        offset += b;
        plan.model_bytes_estimate -= b + kFieldOverheadBytes;
        plan.model_bytes_estimate += kExternalEntryBytes;
    }
    plan.data_file_bytes = offset;
    if (plan.model_bytes_estimate > kProtobufLimitBytes) {
        throw ModelError("the model would still be about " +
                         std::to_string(plan.model_bytes_estimate) +
                         " bytes with every tensor of at least " +
                         std::to_string(options.external_threshold_bytes) +
                         " bytes in external data, over the 2 GiB protobuf limit; lower "
                         "external_threshold_bytes");
    }
    return plan;
}

std::string external_data_path(const std::string& model_path) {
    return model_path + ".data";
}

std::string serialize_model(const ir::Model& model) {
    onnx::ModelProto mp;
    Builder b;
    b.model(model, &mp);
    // Refuse before copying any tensor data when the result cannot fit.
    std::uint64_t estimate = mp.ByteSizeLong();
    for (const auto& s : b.slots()) {
        estimate += s.tensor->size_bytes() + kFieldOverheadBytes;
    }
    if (estimate > kProtobufLimitBytes) {
        throw ModelError("the serialized model would be about " + std::to_string(estimate) +
                         " bytes, over the 2 GiB protobuf limit; write it to a file with "
                         "write_model, which moves large tensors to external data");
    }
    for (const auto& s : b.slots()) {
        fill_inline(s);
    }
    check_size(mp);
    std::string out;
    if (!mp.SerializeToString(&out)) {
        throw InternalError("ModelProto serialization failed");
    }
    return out;
}

void write_model(const ir::Model& model, const std::string& path, const WriteOptions& options,
                 const std::string& protect_path) {
    const std::string data_path = external_data_path(path);
    if (!protect_path.empty() &&
        (same_file(path, protect_path) || same_file(data_path, protect_path))) {
        throw ConfigError("refusing to overwrite the input model '" + protect_path +
                          "'; choose another output path");
    }
    ir::verify_graph(*model.graph);
    onnx::ModelProto mp;
    Builder b;
    b.model(model, &mp);
    std::vector<std::uint64_t> sizes;
    for (const auto& s : b.slots()) {
        sizes.push_back(s.tensor->size_bytes());
    }
    const ExternalDataPlan plan = plan_external_data(sizes, mp.ByteSizeLong(), options);

    std::optional<detail::AtomicFile> data_file;
    const std::string location = fs::path(data_path).filename().string();
    std::uint64_t written = 0;
    for (std::size_t i = 0; i < b.slots().size(); ++i) {
        const TensorSlot& s = b.slots()[i];
        if (!plan.external[i]) {
            fill_inline(s);
            continue;
        }
        if (!data_file) {
            data_file.emplace(data_path);
        }
        data_file->write_zeros(static_cast<std::size_t>(plan.offsets[i] - written));
        data_file->write(s.tensor->raw(), s.tensor->size_bytes());
        written = plan.offsets[i] + sizes[i];
        s.proto->set_data_location(onnx::TensorProto::EXTERNAL);
        add_entry(s.proto, "location", location);
        add_entry(s.proto, "offset", std::to_string(plan.offsets[i]));
        add_entry(s.proto, "length", std::to_string(sizes[i]));
    }
    check_size(mp);

    detail::AtomicFile model_file(path);
    {
        google::protobuf::io::FileOutputStream out(model_file.fd());
        if (!mp.SerializeToZeroCopyStream(&out) || !out.Flush()) {
            throw IoError("cannot write '" + path + "': serialization failed");
        }
    }
    if (data_file) {
        data_file->commit(options.fsync);
    }
    model_file.commit(options.fsync);
    logger().debug("wrote {} ({} tensor(s), {} in external data '{}', {} bytes)", path,
                   sizes.size(), std::count(plan.external.begin(), plan.external.end(), true),
                   location, plan.data_file_bytes);
}

}  // namespace aquant::io
