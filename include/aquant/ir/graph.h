// The graph IR: plain data. Nodes and values live in vectors and refer to each other through
// NodeId/ValueId index handles. Passes are free functions; edits go through GraphPatch (patch.h).
// Anything ONNX carries that aquant does not interpret (functions, training info, sparse
// initializers, non-tensor types) is kept as opaque serialized bytes by io/ so a read->write
// round trip loses nothing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aquant/core/tensor.h"

namespace aquant::ir {

struct ValueId {
    std::int32_t index = -1;
    bool valid() const { return index >= 0; }
    bool operator==(ValueId o) const { return index == o.index; }
    bool operator!=(ValueId o) const { return index != o.index; }
    bool operator<(ValueId o) const { return index < o.index; }
};

struct NodeId {
    std::int32_t index = -1;
    bool valid() const { return index >= 0; }
    bool operator==(NodeId o) const { return index == o.index; }
    bool operator!=(NodeId o) const { return index != o.index; }
    bool operator<(NodeId o) const { return index < o.index; }
};

/// One dimension: a known size (value >= 0), a symbolic name (param), or unknown (neither).
struct Dim {
    std::int64_t value = -1;
    std::string param;
    bool known() const { return value >= 0; }
    bool operator==(const Dim& o) const { return value == o.value && param == o.param; }
};

/// Tensor type of a value. Non-tensor types (sequence, map, optional) are kept as the
/// serialized TypeProto in `opaque` and are otherwise not interpreted.
struct TypeInfo {
    DType elem_type = DType::kUndefined;
    std::optional<std::vector<Dim>> shape;  // nullopt: rank unknown
    std::string opaque;                     // serialized onnx.TypeProto for non-tensor types
    std::string denotation;

    bool has_static_shape() const;
    std::optional<Dims> static_dims() const;
    std::string str() const;  // "float[N,1,28,28]"
    bool operator==(const TypeInfo& o) const {
        return elem_type == o.elem_type && shape == o.shape && opaque == o.opaque &&
               denotation == o.denotation;
    }
};

struct Value {
    std::string name;
    std::optional<TypeInfo> type;
    std::string doc_string;
    std::optional<Tensor> initializer;  // set for weights/constants stored as initializers
    NodeId producer;                    // invalid for graph inputs, initializers, outer scope
    int producer_slot = -1;
    std::vector<NodeId> consumers;      // maintained by Graph::rebuild_uses()
};

class Graph;

enum class AttrType {
    kUndefined = 0,
    kFloat = 1,
    kInt = 2,
    kString = 3,
    kTensor = 4,
    kGraph = 5,
    kFloats = 6,
    kInts = 7,
    kStrings = 8,
    kTensors = 9,
    kGraphs = 10,
    kSparseTensor = 11,
    kSparseTensors = 12,
    kTypeProto = 13,
    kTypeProtos = 14,
};

struct Attribute {
    std::string name;
    AttrType type = AttrType::kUndefined;
    float f = 0.0f;
    std::int64_t i = 0;
    std::string s;
    Tensor t;
    std::shared_ptr<Graph> g;
    std::vector<float> floats;
    std::vector<std::int64_t> ints;
    std::vector<std::string> strings;
    std::vector<Tensor> tensors;
    std::vector<std::shared_ptr<Graph>> graphs;
    std::vector<std::string> opaque;  // serialized sparse tensors / type protos
    std::string ref_attr_name;
    std::string doc_string;
};

struct Node {
    std::string name;
    std::string op_type;
    std::string domain;  // "" and "ai.onnx" are the default domain
    std::string doc_string;
    std::vector<ValueId> inputs;  // an invalid id is an omitted optional input ("")
    std::vector<ValueId> outputs;
    std::vector<Attribute> attributes;
    bool removed = false;  // tombstone left by GraphPatch until Graph::compact()

    const Attribute* find_attr(const std::string& attr_name) const;
    std::int64_t attr_int(const std::string& attr_name, std::int64_t def) const;
    float attr_float(const std::string& attr_name, float def) const;
    std::string attr_string(const std::string& attr_name, const std::string& def) const;
    std::vector<std::int64_t> attr_ints(const std::string& attr_name,
                                        std::vector<std::int64_t> def = {}) const;
    std::vector<float> attr_floats(const std::string& attr_name,
                                   std::vector<float> def = {}) const;
    /// Number of inputs, counting trailing omitted ones as absent.
    std::size_t num_inputs() const;
    bool has_input(std::size_t i) const { return i < inputs.size() && inputs[i].valid(); }
};

class Graph {
public:
    std::string name;
    std::string doc_string;
    std::string source_path;  // file the model came from, used in error messages

    std::vector<ValueId> inputs;        // graph inputs (may include initializers, IR < 4)
    std::vector<ValueId> outputs;
    std::vector<ValueId> initializers;  // in file order
    std::vector<ValueId> value_infos;   // values that had a value_info entry, in file order
    std::vector<std::string> opaque_sparse_initializers;
    std::vector<std::string> quantization_annotations;  // serialized TensorAnnotation

    std::size_t num_nodes() const { return nodes_.size(); }
    std::size_t num_values() const { return values_.size(); }
    Node& node(NodeId id) { return nodes_.at(static_cast<std::size_t>(id.index)); }
    const Node& node(NodeId id) const { return nodes_.at(static_cast<std::size_t>(id.index)); }
    Value& value(ValueId id) { return values_.at(static_cast<std::size_t>(id.index)); }
    const Value& value(ValueId id) const { return values_.at(static_cast<std::size_t>(id.index)); }
    const std::vector<Node>& nodes() const { return nodes_; }
    std::vector<Node>& nodes() { return nodes_; }
    std::vector<NodeId> node_ids() const;  // all live nodes in storage order

    /// The value with this name, creating it if needed.
    ValueId value_named(const std::string& value_name);
    std::optional<ValueId> find_value(const std::string& value_name) const;
    ValueId add_value(Value v);  // throws InternalError on a duplicate name
    NodeId add_node(Node n);     // sets producers of outputs; call rebuild_uses() after edits
    ValueId add_initializer(const std::string& value_name, Tensor t);

    bool is_initializer(ValueId v) const { return value(v).initializer.has_value(); }
    bool is_graph_input(ValueId v) const;
    /// Graph inputs that are not initializers: what a user must feed.
    std::vector<ValueId> real_inputs() const;
    /// A constant: an initializer, or the output of a Constant node with a tensor value.
    const Tensor* constant(ValueId v) const;

    NodeId producer(ValueId v) const { return value(v).producer; }
    const std::vector<NodeId>& consumers(ValueId v) const { return value(v).consumers; }

    /// Recomputes producers and consumers from the nodes. Throws ModelError naming the node when
    /// two nodes produce the same value.
    void rebuild_uses();
    /// Live nodes in a topological order (stable: ties keep storage order). Throws ModelError
    /// naming a node on a cycle.
    std::vector<NodeId> topological_order() const;
    /// Drops removed nodes and orders nodes topologically. Value ids are kept.
    void compact();

    /// Names used by values, for make_unique_name.
    std::string make_unique_name(const std::string& base);

private:
    std::vector<Node> nodes_;
    std::vector<Value> values_;
    std::map<std::string, ValueId> by_name_;
    std::map<std::string, int> name_counters_;
};

struct OpsetImport {
    std::string domain;
    std::int64_t version = 0;
    bool operator==(const OpsetImport& o) const {
        return domain == o.domain && version == o.version;
    }
};

struct Model {
    std::int64_t ir_version = 0;
    std::vector<OpsetImport> opset_import;
    std::string producer_name;
    std::string producer_version;
    std::string domain;
    std::int64_t model_version = 0;
    std::string doc_string;
    std::vector<std::pair<std::string, std::string>> metadata_props;
    std::shared_ptr<Graph> graph = std::make_shared<Graph>();
    std::vector<std::string> opaque_functions;      // serialized FunctionProto
    std::vector<std::string> opaque_training_info;  // serialized TrainingInfoProto

    /// Opset version of a domain ("" or "ai.onnx" for the default); 0 when not imported.
    std::int64_t opset(const std::string& dom = "") const;
    void set_opset(const std::string& dom, std::int64_t version);
    std::optional<std::string> metadata(const std::string& key) const;
    void set_metadata(const std::string& key, const std::string& value);
};

/// Histogram of op types (domain-qualified for non-default domains), sub-graphs included.
std::map<std::string, int> op_histogram(const Graph& g);

/// Structural equality used by round-trip tests: same nodes, values, attributes, initializers
/// (byte-equal), types and metadata. `why` receives the first difference found.
bool models_equal(const Model& a, const Model& b, std::string* why = nullptr);

}  // namespace aquant::ir
