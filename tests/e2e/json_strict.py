#!/usr/bin/python3
"""json_strict.py FILE [RC]: FILE (a command's whole stdout) is exactly one
JSON document: valid UTF-8, no duplicate keys, no NaN/Infinity, nothing
before or after it but whitespace; with RC, its exit_code is RC
and, when RC is not 0, its error is a message."""
import json
import sys


def no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError("duplicate key %r" % k)
        seen[k] = v
    return seen


def bad_constant(name):
    raise ValueError("non-standard constant %s" % name)


def main():
    data = open(sys.argv[1], "rb").read()
    try:
        text = data.decode("utf-8", errors="strict")
        doc = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=bad_constant)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        print("not one strict JSON document (%s): %r" % (e, data[:400]))
        return 1
    if not isinstance(doc, dict):
        print("not a JSON object: %r" % data[:400])
        return 1
    if len(sys.argv) > 2:
        want = int(sys.argv[2])
        if doc.get("exit_code") != want:
            print("exit_code %r in the document, the process exited %d: %r" % (doc.get("exit_code"), want, data[:400]))
            return 1
        if want != 0 and not (isinstance(doc.get("error"), str) and doc["error"]):
            print("a failure without its error message: %r" % data[:400])
            return 1
    return 0


sys.exit(main())
