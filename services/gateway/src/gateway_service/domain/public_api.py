"""The public API description: the gateway's own OpenAPI document plus the public paths of its upstreams.

Only `/api/v1` paths and the components they need are taken from an upstream. A component whose name
is already taken by a different definition is renamed `<Upstream><Name>` and its references follow.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .routing import API_PREFIX

REF_PREFIX = "#/components/"


def merge_openapi(own: Mapping[str, Any], upstream_docs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(own))
    paths: dict[str, Any] = merged.setdefault("paths", {})
    components: dict[str, dict[str, Any]] = merged.setdefault("components", {})
    tags: list[dict[str, Any]] = merged.setdefault("tags", [])
    for upstream, doc in sorted(upstream_docs.items()):
        renames: dict[str, str] = {}  # "schemas/Name" -> "schemas/CatalogName"
        additions: dict[str, dict[str, Any]] = {}
        for section, entries in (doc.get("components") or {}).items():
            if not isinstance(entries, Mapping):
                continue
            existing = components.get(section, {})
            for name, definition in entries.items():
                target = name
                if name in existing and existing[name] != definition:
                    target = _free_name(f"{upstream.capitalize()}{name}", existing, additions.get(section, {}))
                    renames[f"{section}/{name}"] = f"{section}/{target}"
                additions.setdefault(section, {})[target] = definition
        for section, entries in additions.items():
            target_section = components.setdefault(section, {})
            for name, definition in entries.items():
                target_section[name] = _rewrite_refs(copy.deepcopy(definition), renames)
        for path, operations in (doc.get("paths") or {}).items():
            if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
                if path not in paths:  # the gateway's own paths win
                    paths[path] = _rewrite_refs(copy.deepcopy(operations), renames)
        known = {tag.get("name") for tag in tags}
        for tag in doc.get("tags") or []:
            if tag.get("name") not in known:
                tags.append(copy.deepcopy(tag))
    if not tags:
        merged.pop("tags")
    merged["paths"] = dict(sorted(paths.items()))
    return merged


def _free_name(candidate: str, *taken: Mapping[str, Any]) -> str:
    name, n = candidate, 2
    while any(name in names for names in taken):
        name, n = f"{candidate}{n}", n + 1
    return name


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if not renames:
        return node
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                target = renames.get(value[len(REF_PREFIX):])
                if target is not None:
                    node[key] = REF_PREFIX + target
            else:
                _rewrite_refs(value, renames)
    elif isinstance(node, list):
        for item in node:
            _rewrite_refs(item, renames)
    return node
