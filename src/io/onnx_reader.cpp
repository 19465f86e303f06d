#include "aquant/io/onnx_reader.h"

#include "io/onnx_infer.h"
#include "io/proto_convert.h"

#include "aquant/core/log.h"
#include "aquant/ir/shape_infer.h"
#include "aquant/ir/verify.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace aquant::io {
namespace {

namespace fs = std::filesystem;
using detail::ExternalData;

// Tensor data larger than this is released from the protobuf as soon as it is in the IR, so peak
// memory stays near one copy of the weights; smaller tensors stay for ONNX shape inference (shape
// operands of Reshape and friends are tiny).
constexpr std::size_t kKeepForInferenceBytes = 4096;

struct ReadContext {
    ReadContext(std::string p, ExternalData e) : path(std::move(p)), ext(std::move(e)) {}

    std::string path;
    ExternalData ext;
    std::set<std::string> undefined_ok;  // not-loaded external initializers, sparse initializers
    int unknown_fields = 0;              // fields newer than libonnx 1.12, dropped
    std::string first_unknown;
};

void note_unknown(ReadContext& ctx, const google::protobuf::Message& m) {
    const int n = m.GetReflection()->GetUnknownFields(m).field_count();
    if (n == 0) {
        return;
    }
    if (ctx.unknown_fields == 0) {
        ctx.first_unknown =
            m.GetDescriptor()->name() + " field " +
            std::to_string(m.GetReflection()->GetUnknownFields(m).field(0).number());
    }
    ctx.unknown_fields += n;
}

// Frees the data of a large tensor already copied into the IR (capacity included).
void release_data(onnx::TensorProto* tp) {
    if (tp->raw_data().size() > kKeepForInferenceBytes) {
        std::string().swap(*tp->mutable_raw_data());
    }
    if (static_cast<std::size_t>(tp->float_data_size()) * 4 > kKeepForInferenceBytes) {
        google::protobuf::RepeatedField<float>().Swap(tp->mutable_float_data());
    }
    if (static_cast<std::size_t>(tp->int32_data_size()) * 4 > kKeepForInferenceBytes) {
        google::protobuf::RepeatedField<std::int32_t>().Swap(tp->mutable_int32_data());
    }
    if (static_cast<std::size_t>(tp->int64_data_size()) * 8 > kKeepForInferenceBytes) {
        google::protobuf::RepeatedField<std::int64_t>().Swap(tp->mutable_int64_data());
    }
    if (static_cast<std::size_t>(tp->double_data_size()) * 8 > kKeepForInferenceBytes) {
        google::protobuf::RepeatedField<double>().Swap(tp->mutable_double_data());
    }
}

std::shared_ptr<ir::Graph> graph_from_proto(onnx::GraphProto& gp, ReadContext& ctx);

ir::AttrType attr_type_of(const onnx::AttributeProto& ap) {
    if (ap.type() != onnx::AttributeProto::UNDEFINED) {
        return static_cast<ir::AttrType>(ap.type());
    }
    // Files older than IR 2 have no type field: take the one field that is set.
    if (ap.has_f()) {
        return ir::AttrType::kFloat;
    }
    if (ap.has_i()) {
        return ir::AttrType::kInt;
    }
    if (ap.has_s()) {
        return ir::AttrType::kString;
    }
    if (ap.has_t()) {
        return ir::AttrType::kTensor;
    }
    if (ap.has_g()) {
        return ir::AttrType::kGraph;
    }
    if (ap.has_sparse_tensor()) {
        return ir::AttrType::kSparseTensor;
    }
    if (ap.has_tp()) {
        return ir::AttrType::kTypeProto;
    }
    if (ap.floats_size()) {
        return ir::AttrType::kFloats;
    }
    if (ap.ints_size()) {
        return ir::AttrType::kInts;
    }
    if (ap.strings_size()) {
        return ir::AttrType::kStrings;
    }
    if (ap.tensors_size()) {
        return ir::AttrType::kTensors;
    }
    if (ap.graphs_size()) {
        return ir::AttrType::kGraphs;
    }
    if (ap.sparse_tensors_size()) {
        return ir::AttrType::kSparseTensors;
    }
    if (ap.type_protos_size()) {
        return ir::AttrType::kTypeProtos;
    }
    return ir::AttrType::kUndefined;
}

Tensor attr_tensor(const onnx::TensorProto& tp, ReadContext& ctx, const std::string& what) {
    auto t = detail::tensor_from_proto(tp, ctx.ext, what);
    if (!t) {
        throw ModelError(what + ": external data in attributes needs load_external_data");
    }
    return std::move(*t);
}

ir::Attribute attribute_from_proto(onnx::AttributeProto& ap, ReadContext& ctx,
                                   const std::string& node_what) {
    note_unknown(ctx, ap);
    ir::Attribute a;
    a.name = ap.name();
    a.ref_attr_name = ap.ref_attr_name();
    a.doc_string = ap.doc_string();
    a.type = attr_type_of(ap);
    const std::string what = node_what + ", attribute '" + a.name + "'";
    switch (a.type) {
        case ir::AttrType::kFloat:
            a.f = ap.f();
            break;
        case ir::AttrType::kInt:
            a.i = ap.i();
            break;
        case ir::AttrType::kString:
            a.s = ap.s();
            break;
        case ir::AttrType::kTensor:
            a.t = attr_tensor(ap.t(), ctx, what);
            release_data(ap.mutable_t());
            break;
        case ir::AttrType::kGraph:
            a.g = graph_from_proto(*ap.mutable_g(), ctx);
            break;
        case ir::AttrType::kFloats:
            a.floats.assign(ap.floats().begin(), ap.floats().end());
            break;
        case ir::AttrType::kInts:
            a.ints.assign(ap.ints().begin(), ap.ints().end());
            break;
        case ir::AttrType::kStrings:
            a.strings.assign(ap.strings().begin(), ap.strings().end());
            break;
        case ir::AttrType::kTensors:
            for (auto& tp : *ap.mutable_tensors()) {
                a.tensors.push_back(attr_tensor(tp, ctx, what));
                release_data(&tp);
            }
            break;
        case ir::AttrType::kGraphs:
            for (auto& sg : *ap.mutable_graphs()) {
                a.graphs.push_back(graph_from_proto(sg, ctx));
            }
            break;
        case ir::AttrType::kSparseTensor:
            a.opaque.push_back(ap.sparse_tensor().SerializeAsString());
            break;
        case ir::AttrType::kSparseTensors:
            for (const auto& st : ap.sparse_tensors()) {
                a.opaque.push_back(st.SerializeAsString());
            }
            break;
        case ir::AttrType::kTypeProto:
            a.opaque.push_back(ap.tp().SerializeAsString());
            break;
        case ir::AttrType::kTypeProtos:
            for (const auto& tp : ap.type_protos()) {
                a.opaque.push_back(tp.SerializeAsString());
            }
            break;
        case ir::AttrType::kUndefined:
            break;
        default:
            throw ModelError(what + ": unknown attribute type " +
                             std::to_string(static_cast<int>(a.type)));
    }
    return a;
}

ir::ValueId value_from_proto(const onnx::ValueInfoProto& vi, ir::Graph& g, ReadContext& ctx) {
    note_unknown(ctx, vi);
    const ir::ValueId id = g.value_named(vi.name());
    ir::Value& v = g.value(id);
    if (vi.has_type()) {
        v.type = detail::type_from_proto(vi.type(), ctx.path + ": value '" + vi.name() + "'");
    }
    if (vi.has_doc_string()) {
        v.doc_string = vi.doc_string();
    }
    return id;
}

ir::ValueId io_value(ir::Graph& g, const std::string& name) {
    return name.empty() ? ir::ValueId{} : g.value_named(name);
}

std::shared_ptr<ir::Graph> graph_from_proto(onnx::GraphProto& gp, ReadContext& ctx) {
    note_unknown(ctx, gp);
    auto g = std::make_shared<ir::Graph>();
    g->name = gp.name();
    g->doc_string = gp.doc_string();
    g->source_path = ctx.path;
    for (auto& tp : *gp.mutable_initializer()) {
        note_unknown(ctx, tp);
        const std::string what = ctx.path + ": initializer '" + tp.name() + "'";
        auto t = detail::tensor_from_proto(tp, ctx.ext, what);
        if (t) {
            g->add_initializer(tp.name(), std::move(*t));
        } else {
            g->value(g->value_named(tp.name())).type = detail::tensor_proto_type(tp, what);
            ctx.undefined_ok.insert(tp.name());
        }
        release_data(&tp);
    }
    for (const auto& vi : gp.input()) {
        g->inputs.push_back(value_from_proto(vi, *g, ctx));
    }
    for (const auto& vi : gp.output()) {
        g->outputs.push_back(value_from_proto(vi, *g, ctx));
    }
    for (const auto& vi : gp.value_info()) {
        g->value_infos.push_back(value_from_proto(vi, *g, ctx));
    }
    for (auto& np : *gp.mutable_node()) {
        note_unknown(ctx, np);
        ir::Node n;
        n.name = np.name();
        n.op_type = np.op_type();
        n.domain = np.domain();
        n.doc_string = np.doc_string();
        for (const auto& in : np.input()) {
            n.inputs.push_back(io_value(*g, in));
        }
        for (const auto& out : np.output()) {
            n.outputs.push_back(io_value(*g, out));
        }
        const std::string what = ctx.path + ": node '" + n.name + "' (" + n.op_type + ")";
        for (auto& ap : *np.mutable_attribute()) {
            n.attributes.push_back(attribute_from_proto(ap, ctx, what));
        }
        g->add_node(std::move(n));
    }
    for (const auto& sp : gp.sparse_initializer()) {
        g->opaque_sparse_initializers.push_back(sp.SerializeAsString());
        ctx.undefined_ok.insert(sp.values().name());
    }
    for (const auto& qa : gp.quantization_annotation()) {
        g->quantization_annotations.push_back(qa.SerializeAsString());
    }
    g->rebuild_uses();  // throws naming the node when two nodes produce one value
    return g;
}

// A TensorProto with a known element type whose data matches its dims: ONNX test data.
bool looks_like_tensor(const char* data, std::size_t size) {
    onnx::TensorProto tp;
    if (!tp.ParseFromArray(data, static_cast<int>(size))) {
        return false;
    }
    const auto dt = dtype_from_code(tp.data_type());
    if (!dt || *dt == DType::kUndefined || *dt == DType::kString) {
        return false;
    }
    std::int64_t n = 1;
    for (auto d : tp.dims()) {
        if (d < 0 || d > (std::int64_t{1} << 40)) {
            return false;
        }
        n *= d;
        if (n > (std::int64_t{1} << 40)) {
            return false;
        }
    }
    if (tp.has_raw_data()) {
        return tp.raw_data().size() == dtype_storage_bytes(*dt, n);
    }
    return n > 0 && (tp.float_data_size() == n || tp.int32_data_size() == n ||
                     tp.int64_data_size() == n || tp.double_data_size() == n);
}

std::shared_ptr<ir::Model> model_from_proto(onnx::ModelProto& mp, ReadContext& ctx) {
    note_unknown(ctx, mp);
    auto m = std::make_shared<ir::Model>();
    m->ir_version = mp.ir_version();
    for (const auto& o : mp.opset_import()) {
        m->opset_import.push_back({o.domain(), o.version()});
    }
    m->producer_name = mp.producer_name();
    m->producer_version = mp.producer_version();
    m->domain = mp.domain();
    m->model_version = mp.model_version();
    m->doc_string = mp.doc_string();
    for (const auto& kv : mp.metadata_props()) {
        m->metadata_props.emplace_back(kv.key(), kv.value());
    }
    for (const auto& f : mp.functions()) {
        m->opaque_functions.push_back(f.SerializeAsString());
    }
    for (const auto& t : mp.training_info()) {
        m->opaque_training_info.push_back(t.SerializeAsString());
    }
    m->graph = graph_from_proto(*mp.mutable_graph(), ctx);
    return m;
}

std::shared_ptr<ir::Model> read_impl(const char* data, std::size_t size, const std::string& path,
                                     const ReadOptions& options) {
    if (size == 0) {
        throw ModelError(path + ": not an ONNX model (the file is empty)");
    }
    if (size > static_cast<std::size_t>(INT_MAX)) {
        throw ModelError(path + ": the file is " + std::to_string(size) +
                         " bytes; protobuf cannot parse more than 2 GiB, so weights this large "
                         "must be stored as ONNX external data");
    }
    onnx::ModelProto mp;
    bool parsed = false;
    {
        google::protobuf::io::ArrayInputStream input(data, static_cast<int>(size));
        google::protobuf::io::CodedInputStream coded(&input);
        coded.SetTotalBytesLimit(INT_MAX);
        // A stray end-group tag stops the parser early without an error: require all bytes.
        parsed = mp.ParseFromCodedStream(&coded) &&
                 static_cast<std::size_t>(coded.CurrentPosition()) == size;
    }
    if (!parsed || !mp.has_graph() || mp.ir_version() <= 0) {
        if (looks_like_tensor(data, size)) {
            throw ModelError(path +
                             ": is not an ONNX ModelProto (it looks like a serialized "
                             "TensorProto, e.g. ONNX test data)");
        }
        if (!parsed) {
            const std::string why = detail::diagnose_parse_failure(data, size);
            throw ModelError(path + ": not an ONNX model (protobuf parse failed" +
                             (why.empty() ? "" : ": " + why) + ")");
        }
        throw ModelError(path + ": is not an ONNX ModelProto (it parses as protobuf but has " +
                         (mp.has_graph() ? "no ir_version" : "no graph") + ")");
    }
    ReadContext ctx(path,
                    ExternalData(path, fs::path(path).parent_path(), options.load_external_data));
    auto model = model_from_proto(mp, ctx);
    if (ctx.unknown_fields > 0) {
        logger().warn("{}: {} protobuf field(s) newer than ONNX 1.12 are not kept (first: {})",
                      path, ctx.unknown_fields, ctx.first_unknown);
    }
    ir::verify_graph(*model->graph,
                     std::vector<std::string>(ctx.undefined_ok.begin(), ctx.undefined_ok.end()));
    if (options.infer_shapes) {
        detail::run_onnx_inference(mp, *model);
        const int typed = ir::infer_shapes(*model->graph, model->opset());
        logger().debug("{}: own shape propagation typed {} value(s)", path, typed);
    }
    return model;
}

class MappedFile {
public:
    explicit MappedFile(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd_ < 0) {
            throw IoError(path + ": cannot open model file: " + std::strerror(errno));
        }
        try {
            map(path);
        } catch (...) {
            ::close(fd_);
            throw;
        }
    }

    ~MappedFile() {
        if (data_) {
            ::munmap(const_cast<char*>(data_), size_);
        }
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const char* data() const { return data_; }

    std::size_t size() const { return size_; }

private:
    void map(const std::string& path) {
        struct stat st {};

        if (::fstat(fd_, &st) != 0) {
            throw IoError(path + ": cannot stat: " + std::strerror(errno));
        }
        if (S_ISDIR(st.st_mode)) {
            throw IoError(path + ": is a directory, not a model file");
        }
        size_ = static_cast<std::size_t>(st.st_size);
        if (size_ == 0) {
            return;
        }
        void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
        if (p == MAP_FAILED) {
            throw IoError(path + ": cannot map: " + std::strerror(errno));
        }
        data_ = static_cast<const char*>(p);
    }

    int fd_ = -1;
    const char* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace

std::shared_ptr<ir::Model> read_model(const std::string& path, const ReadOptions& options) {
    const MappedFile file(path);
    return read_impl(file.data(), file.size(), path, options);
}

std::shared_ptr<ir::Model> read_model_from_bytes(const std::string& bytes, const std::string& path,
                                                 const ReadOptions& options) {
    return read_impl(bytes.data(), bytes.size(), path, options);
}

}  // namespace aquant::io
