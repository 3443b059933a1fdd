"""Prints an OTLP/HTTP protobuf trace export body (the bytes an OTLP
exporter POSTed to /v1/traces) as JSON, by protobuf's own JSON mapping of
opentelemetry-proto's ExportTraceServiceRequest:

    python otlp_protobuf_to_json.py BODY.bin > BODY.json

That mapping is what OTLP JSON is built on, with protobuf's defaults where
OTLP JSON asks otherwise: ids in base64 (OTLP JSON: hex), enums by name
(OTLP JSON: integers), 64-bit integers as strings. Tools that print OTLP
with protobuf's own library write files like this, so an importer meets
them; e2e/interop-files.test.mjs imports one.
"""

import sys

from google.protobuf.json_format import MessageToJson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as body:
        request = ExportTraceServiceRequest.FromString(body.read())
    print(MessageToJson(request))
    return 0


if __name__ == "__main__":
    sys.exit(main())
