#include "io/onnx_infer.h"

#include "io/proto_convert.h"

#include "aquant/core/log.h"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace aquant::io::detail {
namespace {

// ONNX inference of even large graphs takes seconds; a child this slow is assumed stuck.
constexpr int kChildTimeoutMs = 300000;

void take_type(const onnx::ValueInfoProto& vi, ir::Graph& g, int& count) {
    if (!vi.has_type()) {
        return;
    }
    const auto id = g.find_value(vi.name());
    if (!id) {
        return;
    }
    ir::Value& v = g.value(*id);
    if (v.type) {
        return;
    }
    try {
        ir::TypeInfo ti = type_from_proto(vi.type(), vi.name());
        if (ti.elem_type == DType::kUndefined && !ti.shape && ti.opaque.empty()) {
            return;
        }
        v.type = std::move(ti);
        ++count;
    } catch (const Error&) {
        // An element type inference made up that aquant does not know: leave the value untyped.
    }
}

// The IR graph was built from `gp` before inference, node for node, so nodes match by index.
void apply_inferred(const onnx::GraphProto& gp, ir::Graph& g, int& count) {
    for (const auto& vi : gp.value_info()) {
        take_type(vi, g, count);
    }
    for (const auto& vi : gp.output()) {
        take_type(vi, g, count);
    }
    if (static_cast<std::size_t>(gp.node_size()) != g.num_nodes()) {
        return;
    }
    for (int i = 0; i < gp.node_size(); ++i) {
        const onnx::NodeProto& np = gp.node(i);
        ir::Node& n = g.nodes()[static_cast<std::size_t>(i)];
        if (static_cast<std::size_t>(np.attribute_size()) != n.attributes.size()) {
            continue;
        }
        for (int k = 0; k < np.attribute_size(); ++k) {
            const auto& ap = np.attribute(k);
            ir::Attribute& a = n.attributes[static_cast<std::size_t>(k)];
            if (a.g && ap.has_g()) {
                apply_inferred(ap.g(), *a.g, count);
            }
            if (a.graphs.size() == static_cast<std::size_t>(ap.graphs_size())) {
                for (int j = 0; j < ap.graphs_size(); ++j) {
                    apply_inferred(ap.graphs(j), *a.graphs[static_cast<std::size_t>(j)], count);
                }
            }
        }
    }
}

using OpsetMap = std::map<std::string, int>;

OpsetMap opsets_of(const google::protobuf::RepeatedPtrField<onnx::OperatorSetIdProto>& imports) {
    OpsetMap m;
    for (const auto& o : imports) {
        m[o.domain() == "ai.onnx" ? "" : o.domain()] = static_cast<int>(o.version());
    }
    return m;
}

// ONNX 1.12's inference functions trust their node: a Scan without num_scan_inputs, for one,
// dereferences null. Checking every node against its schema first (OpSchema::Verify, as the
// checker does: required attributes, attribute types, input/output counts) keeps malformed
// models away from them. Returns the first problem, or "" when all nodes pass.
std::string verify_nodes(const onnx::GraphProto& g, const OpsetMap& opsets) {
    for (const auto& n : g.node()) {
        const std::string domain = n.domain() == "ai.onnx" ? "" : n.domain();
        const auto it = opsets.find(domain);
        if (it != opsets.end()) {
            const onnx::OpSchema* schema =
                onnx::OpSchemaRegistry::Schema(n.op_type(), it->second, domain);
            if (schema) {
                try {
                    schema->Verify(n);
                } catch (const std::exception& e) {
                    return "node '" + n.name() + "' (" + n.op_type() + "): " + e.what();
                }
            }
        }
        for (const auto& a : n.attribute()) {
            std::string why;
            if (a.has_g()) {
                why = verify_nodes(a.g(), opsets);
            }
            for (int i = 0; why.empty() && i < a.graphs_size(); ++i) {
                why = verify_nodes(a.graphs(i), opsets);
            }
            if (!why.empty()) {
                return why;
            }
        }
    }
    return "";
}

std::string verify_model(const onnx::ModelProto& mp) {
    const OpsetMap opsets = opsets_of(mp.opset_import());
    std::string why = verify_nodes(mp.graph(), opsets);
    for (int i = 0; why.empty() && i < mp.functions_size(); ++i) {
        const auto& f = mp.functions(i);
        onnx::GraphProto body;
        *body.mutable_node() = f.node();
        why = verify_nodes(body, f.opset_import_size() ? opsets_of(f.opset_import()) : opsets);
    }
    return why;
}

bool write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// Child side: infers, then sends 'O' + the inferred GraphProto, or 'E' + the exception text.
[[noreturn]] void infer_in_child(onnx::ModelProto& mp, int fd) {
    std::string out;
    try {
        // No data propagation: in ONNX 1.12 it crashes on a Shape whose input has no type, e.g.
        // after a custom-domain op, and adds little (lengths of shape vectors).
        const onnx::ShapeInferenceOptions options(/*check_type=*/false, /*error_mode=*/0,
                                                  /*data_prop=*/false);
        onnx::shape_inference::InferShapes(mp, onnx::OpSchemaRegistry::Instance(), options);
        out = "O" + mp.graph().SerializeAsString();
    } catch (const std::exception& e) {
        out = std::string("E") + e.what();
    } catch (...) {
        out = "Eunknown exception";
    }
    _exit(write_all(fd, out.data(), out.size()) ? 0 : 1);
}

// Reads everything the child sends, giving up after kChildTimeoutMs.
bool read_child(int fd, std::string& buf) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(kChildTimeoutMs);
    char chunk[65536];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            return false;
        }
        const ssize_t r = ::read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return false;
        }
        if (r == 0) {
            return true;
        }
        buf.append(chunk, static_cast<std::size_t>(r));
    }
}

// ONNX 1.12's inference functions crash (SIGSEGV) on some malformed nodes that pass the schema
// check, e.g. LayerNormalization with an out-of-range axis. Inference therefore runs in a forked
// child; on success the inferred graph replaces mp's graph. `why` explains a failure.
bool infer_isolated(onnx::ModelProto& mp, std::string& why) {
    (void)onnx::OpSchemaRegistry::Instance();  // initialise the registry once, in the parent
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        why = std::string("pipe failed: ") + std::strerror(errno);
        return false;
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
        why = std::string("fork failed: ") + std::strerror(errno);
        ::close(fds[0]);
        ::close(fds[1]);
        return false;
    }
    if (pid == 0) {
        ::close(fds[0]);
        infer_in_child(mp, fds[1]);
    }
    ::close(fds[1]);
    std::string buf;
    const bool complete = read_child(fds[0], buf);
    ::close(fds[0]);
    if (!complete) {
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    const bool reaped = ::waitpid(pid, &status, 0) == pid;
    if (reaped && WIFSIGNALED(status)) {
        why = "crashed with signal " + std::to_string(WTERMSIG(status)) + " (a libonnx 1.12 bug)";
        return false;
    }
    if (!complete) {
        why = "timed out";
        return false;
    }
    if (buf.empty() || buf[0] != 'O') {
        why = buf.size() > 1 ? buf.substr(1) : "no result";
        return false;
    }
    onnx::GraphProto inferred;
    if (!inferred.ParseFromArray(buf.data() + 1, static_cast<int>(buf.size() - 1))) {
        why = "unreadable result";
        return false;
    }
    mp.mutable_graph()->Swap(&inferred);
    return true;
}

}  // namespace

int run_onnx_inference(onnx::ModelProto& mp, ir::Model& m) {
    const std::string& path = m.graph->source_path;
    if (m.opset() > kOnnxInferMaxOpset || m.ir_version > kOnnxInferMaxIrVersion) {
        logger().debug("{}: opset {} / IR {} is newer than ONNX 1.12 inference supports", path,
                       m.opset(), m.ir_version);
        return -1;
    }
    const std::string unsafe = verify_model(mp);
    if (!unsafe.empty()) {
        logger().debug("{}: skipping ONNX shape inference: {}", path, unsafe);
        return -1;
    }
    std::string why;
    if (!infer_isolated(mp, why)) {
        logger().debug("{}: ONNX shape inference failed: {}", path, why);
        return -1;
    }
    int count = 0;
    apply_inferred(mp.graph(), *m.graph, count);
    logger().debug("{}: ONNX shape inference typed {} value(s)", path, count);
    return count;
}

}  // namespace aquant::io::detail
