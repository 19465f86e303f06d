// ONNX If: runs then_branch or else_branch (sub-graphs built once into their own executors);
// values from enclosing graphs are visible by name through the context's outer scope.
#include "kernel_util.h"

#include "aquant/engine/executor.h"
#include "aquant/engine/kernel_registry.h"

namespace aquant::engine {
namespace {

class If final : public Kernel {
public:
    If(std::unique_ptr<Executor> then_exec, std::unique_ptr<Executor> else_exec)
        : then_(std::move(then_exec)), else_(std::move(else_exec)) {}

    void run(KernelContext& ctx) const override {
        const Tensor& cond = ctx.input(0);
        if (cond.numel() != 1) {
            ctx.fail("condition: expected one element, got shape " + dims_str(cond.dims()));
        }
        Executor& branch = cond.get_f64(0) != 0.0 ? *then_ : *else_;
        std::vector<Tensor> outs = branch.run_with_outer(ctx.outer_scope(), {});
        if (outs.size() != ctx.num_outputs()) {
            ctx.fail("branch produced " + std::to_string(outs.size()) + " outputs, node has " +
                     std::to_string(ctx.num_outputs()));
        }
        for (std::size_t i = 0; i < outs.size(); ++i) {
            ctx.set_output(i, std::move(outs[i]));
        }
    }

private:
    std::unique_ptr<Executor> then_, else_;
};

std::unique_ptr<Executor> branch_executor(const KernelBuildInfo& info, const char* name) {
    const ir::Attribute* a = info.node.find_attr(name);
    if (!a || !a->g) {
        info.fail("attribute '" + std::string(name) + "' (a graph) is missing");
    }
    static const std::map<std::string, std::int64_t> kNoOpsets;
    return std::make_unique<Executor>(std::shared_ptr<const ir::Graph>(a->g),
                                      info.opsets ? *info.opsets : kNoOpsets);
}

}  // namespace

void register_if(KernelRegistry& registry) {
    registry.add("If", [](const KernelBuildInfo& info) -> KernelPtr {
        return std::make_unique<If>(branch_executor(info, "then_branch"),
                                    branch_executor(info, "else_branch"));
    });
}

}  // namespace aquant::engine
