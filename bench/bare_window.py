"""The start-up yardstick: a bare PySide6 main window, started the way Kindly is started.

``python -m bench.bare_window --exit-after-paint`` prints "bare: first paint" once the window
has painted, then quits, as ``main.py --exit-after-paint`` does.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


class Window(QMainWindow):
    def __init__(self, exit_after_paint: bool) -> None:
        super().__init__()
        self.exit_after_paint = exit_after_paint
        self.painted = False
        self.setCentralWidget(QLabel("Hello, window"))
        self.resize(1400, 860)

    def paintEvent(self, event: object) -> None:
        super().paintEvent(event)  # type: ignore[arg-type]
        if not self.painted and self.exit_after_paint:
            self.painted = True
            QTimer.singleShot(0, self.finish)

    def finish(self) -> None:
        print("bare: first paint", flush=True)
        QApplication.quit()


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = Window("--exit-after-paint" in sys.argv)
    window.show()
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
