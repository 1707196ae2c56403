"""CloudFormation intrinsics in long form (``{"Ref": ...}``), so the generated YAML stays plain."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def arn(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def queue_name(suffix: str) -> dict[str, str]:
    return sub(f"${{AWS::StackName}}-{suffix}")


def when(condition: str, value: object) -> dict[str, Any]:
    """``value`` where ``condition`` holds, else the property is left out (``AWS::NoValue``)."""
    return {"Fn::If": [condition, value, ref("AWS::NoValue")]}


def queue_ids(function: str) -> list[str]:
    """Logical ids of a function's two queues: the normal one, then the high-priority one."""
    return [f"{function}Queue", f"{function}HighQueue"]


def dlq_id(function: str) -> str:
    return f"{function}DeadLetterQueue"
