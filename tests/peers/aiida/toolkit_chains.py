"""The work chains of aiida-core's ``TestWorkChainExpose`` and ``TestDefaultUniqueness``
(``tests/engine/test_work_chain.py``), translated; module level so checkpoints can load them."""

from __future__ import annotations

from typing import Any

from actors import ToContext, WorkChain
from provenance import Bool, Float, Int


class ChildExpose(WorkChain):
    """Three inputs, three outputs: a + b, b, c."""

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.input("a", valid_type=Int)
        spec.input("b", valid_type=Float)
        spec.input("c", valid_type=Bool)
        spec.output("a", valid_type=Float)
        spec.output("b", valid_type=Float)
        spec.output("c", valid_type=Bool)
        spec.outline(cls.do_run)

    def do_run(self) -> None:
        self.out("a", Float(self.inputs.a.value + self.inputs.b.value))
        self.out("b", self.inputs.b)
        self.out("c", self.inputs.c)


class ParentExpose(WorkChain):
    """Exposes ChildExpose's ports at four places, and agglomerates them for its children."""

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.expose_inputs(ChildExpose, include=["a"])
        spec.expose_inputs(ChildExpose, exclude=["a"], namespace="sub_1")
        spec.expose_inputs(ChildExpose, include=["b"], namespace="sub_2")
        spec.expose_inputs(ChildExpose, include=["c"], namespace="sub_2.sub_3")
        spec.expose_outputs(ChildExpose, include=["a"])
        spec.expose_outputs(ChildExpose, exclude=["a"], namespace="sub_1")
        spec.expose_outputs(ChildExpose, include=["b"], namespace="sub_2")
        spec.expose_outputs(ChildExpose, include=["c"], namespace="sub_2.sub_3")
        spec.outline(cls.start_children, cls.finalize)

    def start_children(self) -> ToContext:
        child_1 = self.submit(
            ChildExpose,
            a=self.exposed_inputs(ChildExpose)["a"],
            **self.exposed_inputs(ChildExpose, namespace="sub_1", agglomerate=False),
        )
        child_2 = self.submit(
            ChildExpose, **self.exposed_inputs(ChildExpose, namespace="sub_2.sub_3")
        )
        return ToContext(child_1=child_1, child_2=child_2)

    def finalize(self) -> None:
        self.out_many(
            self.exposed_outputs(
                self.ctx.child_1, ChildExpose, namespace="sub_1", agglomerate=False
            )
        )
        self.out_many(self.exposed_outputs(self.ctx.child_2, ChildExpose, namespace="sub_2.sub_3"))


class GrandParentExpose(WorkChain):
    """Exposes all of ParentExpose two namespaces down."""

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.expose_inputs(ParentExpose, namespace="sub.sub")
        spec.expose_outputs(ParentExpose, namespace="sub.sub")
        spec.outline(cls.do_run, cls.finalize)

    def do_run(self) -> ToContext:
        inputs = self.exposed_inputs(ParentExpose, namespace="sub.sub")
        return ToContext(child=self.submit(ParentExpose, **inputs))

    def finalize(self) -> None:
        self.out_many(self.exposed_outputs(self.ctx.child, ParentExpose, namespace="sub.sub"))


class DefaultChild(WorkChain):
    """One input with a default factory."""

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.input("a", valid_type=Bool, default=lambda: Bool(True))
        spec.outline(cls.step)

    def step(self) -> None:
        pass


class DefaultParent(WorkChain):
    """Exposes DefaultChild twice, in two namespaces."""

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.expose_inputs(DefaultChild, namespace="child_one")
        spec.expose_inputs(DefaultChild, namespace="child_two")
        spec.outline(cls.do_run)

    def do_run(self) -> ToContext:
        one = self.submit(DefaultChild, **self.exposed_inputs(DefaultChild, namespace="child_one"))
        two = self.submit(DefaultChild, **self.exposed_inputs(DefaultChild, namespace="child_two"))
        return ToContext(one=one, two=two)
