#!/usr/bin/python3
"""Converts api-spec/openapi.yaml to compact JSON and writes it as a C source file that the server embeds and serves at
/openapi.json. Usage: embed.py openapi.yaml out.c (Debian's python3-yaml)."""
import hashlib
import json
import sys

import yaml


def main():
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    body = json.dumps(spec, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    lines = ["/* generated from api-spec/openapi.yaml by api-spec/embed.py: do not edit */",
             "#include <stddef.h>",
             "const char app_openapi_spec_etag[] = %s;" % json.dumps(etag),
             "const size_t app_openapi_spec_json_len = %d;" % len(body),
             "const unsigned char app_openapi_spec_json[] = {"]
    for i in range(0, len(body), 24):
        lines.append("    " + ",".join(str(b) for b in body[i:i + 24]) + ",")
    lines.append("    0};")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
