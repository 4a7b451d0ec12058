"""Office hours: the days and hours response clocks run, holidays, the zone, the standard
response target, and vacation mode (the clocks stop; the composer suggests the away reply).

``OfficeHoursForm`` is the widget (also used by the first-run step); ``OfficeHoursDialog``
stores what it says through ``app.core.triage_setup`` and emits ``saved``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from PySide6.QtCore import QDate, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.settings import Settings
from app.core.triage import (
    AwayPeriod,
    OfficeHours,
    OfficeHoursError,
    end_vacation,
    start_vacation,
)
from app.core.triage_setup import (
    MAX_TARGET_MINUTES,
    MIN_TARGET_MINUTES,
    local_zone,
    office_hours,
    response_target,
    save_office,
)

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def _qtime(value: time) -> QTime:
    return QTime(value.hour, value.minute)


def _time(value: QTime) -> time:
    return time(value.hour(), value.minute())


class OfficeHoursForm(QWidget):
    """Days, hours, zone and response target (and holidays, unless ``holidays=False``)."""

    changed = Signal()

    def __init__(self, holidays: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._away: tuple[AwayPeriod, ...] = ()  # kept as loaded; vacation mode edits it
        self.zone = QComboBox()
        self.zone.setEditable(True)
        self.zone.setAccessibleName("Time zone")
        self.zone.addItems(list(zone_names()))
        self.days = [QCheckBox(name) for name in DAY_NAMES]
        self.opens = QTimeEdit()
        self.closes = QTimeEdit()
        for edit in (self.opens, self.closes):
            edit.setDisplayFormat("HH:mm")
        self.closes.setToolTip("00:00 means midnight (the end of the day)")
        self.target_hours = QSpinBox()
        self.target_hours.setRange(0, MAX_TARGET_MINUTES // 60)
        self.target_hours.setSuffix(" h")
        self.target_minutes = QSpinBox()
        self.target_minutes.setRange(0, 55)
        self.target_minutes.setSingleStep(5)
        self.target_minutes.setSuffix(" min")
        self.holiday_list = QListWidget()
        self.holiday_list.setAccessibleName("Holidays")
        self.holiday_list.setMaximumHeight(110)
        self.holiday_date = QDateEdit()
        self.holiday_date.setCalendarPopup(True)
        self.holiday_date.setDisplayFormat("yyyy-MM-dd")
        self.holiday_date.setDate(QDate.currentDate())
        self.add_holiday = QPushButton("Add")
        self.remove_holiday = QPushButton("Remove")
        self.add_holiday.clicked.connect(lambda: self.add_holiday_date(self._picked()))
        self.remove_holiday.clicked.connect(self._remove_holiday)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #B91C1C")
        self.problem.setWordWrap(True)

        days = QWidget()
        days_layout = QHBoxLayout(days)
        days_layout.setContentsMargins(0, 0, 0, 0)
        for box in self.days:
            days_layout.addWidget(box)
        days_layout.addStretch(1)
        hours = QWidget()
        hours_layout = QHBoxLayout(hours)
        hours_layout.setContentsMargins(0, 0, 0, 0)
        hours_layout.addWidget(self.opens)
        hours_layout.addWidget(QLabel("to"))
        hours_layout.addWidget(self.closes)
        hours_layout.addStretch(1)
        target = QWidget()
        target_layout = QHBoxLayout(target)
        target_layout.setContentsMargins(0, 0, 0, 0)
        target_layout.addWidget(self.target_hours)
        target_layout.addWidget(self.target_minutes)
        target_layout.addWidget(QLabel("of office time"))
        target_layout.addStretch(1)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Office days", days)
        form.addRow("Office hours", hours)
        form.addRow("Time zone", self.zone)
        form.addRow("Reply within", target)
        if holidays:
            pick = QWidget()
            pick_layout = QHBoxLayout(pick)
            pick_layout.setContentsMargins(0, 0, 0, 0)
            pick_layout.addWidget(self.holiday_date)
            pick_layout.addWidget(self.add_holiday)
            pick_layout.addWidget(self.remove_holiday)
            pick_layout.addStretch(1)
            form.addRow("Holidays", self.holiday_list)
            form.addRow("", pick)
        form.addRow(self.problem)

        for box in self.days:
            box.toggled.connect(self._changed)
        for edit in (self.opens, self.closes):
            edit.timeChanged.connect(self._changed)
        self.zone.currentTextChanged.connect(self._changed)
        self.target_hours.valueChanged.connect(self._changed)
        self.target_minutes.valueChanged.connect(self._changed)
        self.set_values(OfficeHours(zone=local_zone()), timedelta(hours=2))

    # -- in and out ----------------------------------------------------------------------------

    def set_values(self, hours: OfficeHours, target: timedelta) -> None:
        self._away = hours.away
        self.zone.setCurrentText(hours.zone)
        for day, box in enumerate(self.days):
            box.setChecked(day in hours.days)
        self.opens.setTime(_qtime(hours.opens))
        self.closes.setTime(_qtime(hours.closes))
        minutes = round(target.total_seconds() / 60)
        self.target_hours.setValue(minutes // 60)
        self.target_minutes.setValue(5 * round((minutes % 60) / 5))
        self.holiday_list.clear()
        for holiday in sorted(hours.holidays):
            self.holiday_list.addItem(holiday.isoformat())
        self._changed()

    def hours(self) -> OfficeHours:
        """The office hours shown; raises ``OfficeHoursError`` when they cannot work."""
        days = frozenset(i for i, box in enumerate(self.days) if box.isChecked())
        if not days:
            raise OfficeHoursError("Choose at least one office day.")
        holidays = frozenset(
            date.fromisoformat(self.holiday_list.item(i).text())
            for i in range(self.holiday_list.count())
        )
        return OfficeHours(
            zone=self.zone.currentText().strip(),
            days=days,
            opens=_time(self.opens.time()),
            closes=_time(self.closes.time()),
            holidays=holidays,
            away=self._away,
        )

    def target(self) -> timedelta:
        return timedelta(hours=self.target_hours.value(), minutes=self.target_minutes.value())

    def check(self) -> str | None:
        """What is wrong with the form, in words (None: it can be saved)."""
        try:
            self.hours()
        except OfficeHoursError as error:
            return str(error)
        if self.target() < timedelta(minutes=MIN_TARGET_MINUTES):
            return f"The response target is at least {MIN_TARGET_MINUTES} minutes."
        return None

    def _changed(self, *_args: object) -> None:
        problem = self.check()
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        self.changed.emit()

    # -- holidays ------------------------------------------------------------------------------

    def _picked(self) -> date:
        picked = self.holiday_date.date()
        return date(picked.year(), picked.month(), picked.day())

    def add_holiday_date(self, day: date) -> None:
        shown = {self.holiday_list.item(i).text() for i in range(self.holiday_list.count())}
        if day.isoformat() in shown:
            return
        days = sorted([*shown, day.isoformat()])
        self.holiday_list.clear()
        self.holiday_list.addItems(days)
        self._changed()

    def _remove_holiday(self) -> None:
        row = self.holiday_list.currentRow()
        if row >= 0:
            self.holiday_list.takeItem(row)
            self._changed()


class OfficeHoursDialog(QDialog):
    """Edit and store office hours, the target and vacation mode; ``saved`` after storing."""

    saved = Signal()

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Office hours and response target")
        self.settings = settings
        self.clock = clock
        self.form = OfficeHoursForm()
        hours = office_hours(settings)
        self.form.set_values(hours, response_target(settings))
        self.vacation = QCheckBox("Vacation mode: pause every response clock from now")
        self.vacation.setChecked(hours.on_vacation(clock()))
        self.vacation.setToolTip(
            "Nothing becomes overdue while you are away, and the composer suggests the away "
            "reply. Turn it off when you are back: the clocks run again."
        )
        intro = QLabel(
            "Response targets are measured in office time only: a mention that arrives on "
            "Friday evening is not overdue on Monday morning."
        )
        intro.setWordWrap(True)
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addWidget(self.vacation)
        layout.addLayout(buttons)
        self.form.changed.connect(self._update)
        self._update()
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)

    def _update(self) -> None:
        self.save_button.setEnabled(self.form.check() is None)

    def save(self) -> None:
        if self.form.check() is not None:
            return
        now = self.clock()
        hours = self.form.hours()
        if self.vacation.isChecked():
            hours = start_vacation(hours, now)
        else:
            hours = end_vacation(hours, now)
        save_office(self.settings, hours, self.form.target())
        self.saved.emit()
        self.accept()
