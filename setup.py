"""Ship copies of redaction_rules/ and expectations/ inside the wheel as release/shipped/.

The source tree keeps them at the top level (the layout the design fixes); an installed
package finds them through ``release.paths`` so ``release fioe 2020`` works from any folder.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithShippedRules(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).parent
        for name in ("redaction_rules", "expectations"):
            target = Path(self.build_lib) / "release" / "shipped" / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(root / name, target, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildWithShippedRules})
