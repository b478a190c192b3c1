"""A stand-in training script: proves the image holds the code, the build script's output and the requirement."""
import json
import pathlib

import seelie_hello

meta = json.loads(pathlib.Path("/workspace/code/build-info.json").read_text())
print(seelie_hello.greet("training"), "| built by build_script.sh at", meta["built_at"])
