#!/usr/bin/env python3
"""Independent cross-check of the tool-receipt v2 selective-disclosure hashes
(refs/clawsig-verifier.md §4.7), with only the Python standard library:

  leaf = b64u(SHA-256(path + ":" + JCS({type, value, salt_b64u})))
  root = b64u(SHA-256(JCS(sorted(redacted + disclosed leaf hashes))))

JCS here is json.dumps with sorted keys, no whitespace and no ASCII escaping,
which equals RFC 8785 for the values in leaves.json (strings, integers,
booleans, null; object keys ASCII, so code-unit order = code-point order).
Run: python3 cross_check.py > expected.json
"""
import base64
import hashlib
import json
import os


def jcs(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def b64u_sha256(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def utf16_key(text):
    return text.encode("utf-16-be")


here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "leaves.json"), encoding="utf-8") as f:
    disclosure = json.load(f)

leaves = {}
for path, leaf in disclosure["disclosed_leaves"].items():
    body = {"type": leaf["type"], "value": leaf["value"], "salt_b64u": leaf["salt_b64u"]}
    leaves[path] = b64u_sha256((path + ":" + jcs(body)).encode("utf-8"))

all_hashes = sorted(disclosure["redacted_leaf_hashes_b64u"] + list(leaves.values()), key=utf16_key)
root = b64u_sha256(jcs(all_hashes).encode("utf-8"))
print(json.dumps({"leaf_hashes_b64u": leaves, "merkle_root_b64u": root}, indent=2, sort_keys=True))
