"""The yardstick for Kindly's bundle size: a bare PySide6 window, frozen the same way.

``python3 tasks.py build --compare`` freezes this with the same rules as Kindly
(packaging/hello_window.spec shares packaging/bundle_rules.py) and prints both sizes.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel


def main() -> int:
    app = QApplication(sys.argv[:1])
    label = QLabel("Hello, window")
    label.resize(320, 120)
    label.show()
    if "--exit-after-paint" in sys.argv:
        QTimer.singleShot(0, app.quit)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
