"""The main window driven as a person would: keys, clicks, templates, search, decisions."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtWidgets import QApplication

from app.core.inbox import CaseQuery, InboxView
from app.core.vocab import CaseStatus
from app.storage.models import Case, CaseEvent, OutboundReply
from app.ui.main_window import MainWindow


def current_id(window: MainWindow) -> int:
    assert window.current is not None
    return window.current.id


def press(qtbot, window: MainWindow, key: str) -> None:
    window.list.setFocus()
    qtbot.keyClicks(window.list, key)


def test_opens_on_needs_reply_with_the_most_urgent_case_selected(window: MainWindow) -> None:
    assert window.view is InboxView.NEEDS_REPLY
    assert window.model.rowCount() > 0
    assert window.current is not None
    statuses = {window.model.case_at(r).status for r in range(window.model.rowCount())}
    assert statuses <= {"new", "open"}
    assert "Needs reply" in window.sidebar.topLevelItem(0).text(0)


def test_j_and_k_move_through_the_list(qtbot, window: MainWindow) -> None:
    first = current_id(window)
    press(qtbot, window, "j")
    second = current_id(window)
    assert second != first
    assert window.list.currentIndex().row() == 1
    press(qtbot, window, "k")
    assert current_id(window) == first


def test_keys_typed_in_the_composer_are_text_not_shortcuts(qtbot, window: MainWindow) -> None:
    first = current_id(window)
    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, "jkel")
    assert window.composer.text() == "jkel"
    assert current_id(window) == first
    assert Case.get_by_id(first).status in ("new", "open")


def test_reply_with_a_template_fills_variables_and_queues_it(qtbot, window: MainWindow) -> None:
    case_id = current_id(window)
    press(qtbot, window, "r")
    assert window.composer.edit.hasFocus()
    window.composer.insert_template("thank-you")
    text = window.composer.text()
    assert "{" not in text, text
    assert "Riverbank Alliance" in text and "— Sam, Riverbank Alliance" in text
    assert window.composer.send_button.isEnabled()
    qtbot.mouseClick(window.composer.send_button, Qt.MouseButton.LeftButton)
    reply = OutboundReply.get(OutboundReply.case == case_id)
    assert reply.state == "queued" and reply.template_name == "thank-you"
    assert reply.text == text.strip()
    assert Case.get_by_id(case_id).status == CaseStatus.WAITING.value
    assert window.composer.text() == ""
    assert window.model.row_of(case_id) == -1  # it left "Needs reply"
    assert "1 reply queued" in window.status_label.text()


def test_template_picker_opens_with_slash_and_inserts_on_enter(qtbot, window: MainWindow) -> None:
    window.composer.edit.setFocus()
    qtbot.keyClicks(window.composer.edit, "/")
    picker = window.composer.picker
    assert picker.isVisible()
    assert window.composer.text() == ""
    qtbot.keyClicks(picker.filter, "offline")
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    assert not picker.isVisible()
    assert window.composer.template_name == "take-it-offline"
    assert "hello@riverbank.example" in window.composer.text()


def test_unfilled_variables_block_sending(qtbot, window: MainWindow) -> None:
    window.composer.edit.setPlainText("Hi {first_name}, call {phonee} please")
    window.composer.set_values({"first_name": "", "org": "Riverbank"})
    window.composer.edit.setPlainText("Hi {first_name}, call {phonee} please")
    assert not window.composer.send_button.isEnabled()
    assert "{phonee}" in window.composer.problems.text()
    window.composer.send()
    assert OutboundReply.select().where(OutboundReply.state == "queued").count() == 0


def test_template_fill_ins_must_be_replaced(qtbot, window: MainWindow) -> None:
    window.composer.insert_template("information-link")
    assert not window.composer.send_button.isEnabled()
    assert "[link]" in window.composer.problems.text()
    text = (
        window.composer.text()
        .replace("[one-sentence answer]", "yes")
        .replace("[link]", "https://riverbank.example/faq")
    )
    window.composer.edit.setPlainText(text)
    assert window.composer.send_button.isEnabled()


def test_e_resolves_and_moves_to_the_next_case(qtbot, window: MainWindow, asker) -> None:
    case_id = current_id(window)
    next_id = window.model.case_at(1).id
    asker.confirms.append(True)  # the closing checklist is not ticked: resolve anyway
    press(qtbot, window, "e")
    assert asker.asked == ["Resolve"]
    assert Case.get_by_id(case_id).status == "resolved"
    assert current_id(window) == next_id
    event = CaseEvent.select().where(CaseEvent.case == case_id).order_by(CaseEvent.id.desc()).get()
    assert event.actor == "officer" and "Resolved" in event.detail


def test_l_leaves_alone_with_the_reason_recorded(qtbot, window: MainWindow, asker) -> None:
    case_id = current_id(window)
    asker.reasons.append("Troll: bad-faith, policy says do not engage")
    press(qtbot, window, "l")
    case = Case.get_by_id(case_id)
    assert case.status == "left_alone"
    assert case.status_reason == "Troll: bad-faith, policy says do not engage"
    assert asker.asked == ["Leave alone"]
    event = CaseEvent.select().where(CaseEvent.case == case_id).order_by(CaseEvent.id.desc()).get()
    assert event.kind == "decision" and "Troll" in event.detail


def test_leaving_alone_needs_a_reason(qtbot, window: MainWindow, asker) -> None:
    case_id = current_id(window)
    press(qtbot, window, "l")  # the asker returns None: cancelled
    assert Case.get_by_id(case_id).status in ("new", "open")


def test_search_finds_mentions_and_people(qtbot, window: MainWindow) -> None:
    press(qtbot, window, "/")
    assert window.search.hasFocus()
    qtbot.keyClicks(window.search, "sewage")
    qtbot.waitUntil(lambda: window.model.query.search == "sewage", timeout=2000)
    assert window.model.rowCount() > 0
    for row in range(window.model.rowCount()):
        detail = window.context.inbox.case(window.model.case_at(row).id)
        assert any("sewage" in item.text.lower() for item in detail.items)
    window.search.clear()
    qtbot.keyClicks(window.search, "Rosa Garc")
    qtbot.waitUntil(lambda: window.model.query.search == "Rosa Garc", timeout=2000)
    assert any(
        window.model.case_at(r).display_name == "Rosa García"
        for r in range(window.model.rowCount())
    )
    window.search.clear()
    qtbot.keyClicks(window.search, '"AND (NEAR')
    qtbot.waitUntil(lambda: window.model.query.search == '"AND (NEAR', timeout=2000)
    assert window.empty.isVisible() or window.model.rowCount() >= 0


def test_views_and_networks_filter_the_list(qtbot, window: MainWindow) -> None:
    from app.core.vocab import Network

    window.sidebar.select(InboxView.LEFT_ALONE)
    rows = [window.model.case_at(r) for r in range(window.model.rowCount())]
    assert rows and all(r.status == "left_alone" for r in rows)
    window.sidebar.select(InboxView.ALL, Network.BLUESKY)
    rows = [window.model.case_at(r) for r in range(window.model.rowCount())]
    assert rows and all(r.network == "bluesky" for r in rows)


def test_mention_text_is_shown_as_plain_text(qtbot, window: MainWindow) -> None:
    window.search.setText("pwned")
    window.case_list.run_search()
    assert window.model.rowCount() >= 1
    window.select_row(0)
    shown = window.case_pane.thread.toPlainText()
    assert '<script>alert("pwned")</script>' in shown
    assert '<img src="http://tracker.example/p.png">' in shown
    assert window.case_pane.thread.loadResource(0, "http://tracker.example/p.png") is None


def test_person_panel_sets_stance_and_notes(qtbot, window: MainWindow) -> None:
    panel = window.person_panel
    person_id = panel.person_id
    assert person_id is not None
    panel.stance.setCurrentIndex(panel.stance.findData("opponent"))
    panel.stance.activated.emit(panel.stance.currentIndex())
    qtbot.keyClicks(panel.note_edit, "Local councillor; prefers email")
    qtbot.keyClick(panel.note_edit, Qt.Key.Key_Return)
    detail = window.context.inbox.person(person_id)
    assert detail.stance == "opponent"
    assert [n.text for n in detail.notes] == ["Local councillor; prefers email"]
    assert "Local councillor" in panel.notes.item(0).text()


def test_with_no_case_selected_the_person_panel_shows_no_stance(window: MainWindow) -> None:
    panel = window.person_panel
    assert panel.stance.currentText() != ""  # the selected case's person
    panel.show_person(None)
    assert not panel.isEnabled() and panel.stance.currentText() == ""
    assert panel.name.text() == "" and panel.notes.count() == 0


def test_shortcut_sheet_opens_with_question_mark(qtbot, window: MainWindow) -> None:
    press(qtbot, window, "?")
    assert window.dialogs._sheet is not None and window.dialogs._sheet.isVisible()


def test_case_list_model_passes_the_model_tester(qtmodeltester, demo_context) -> None:
    from app.ui.case_list_model import CaseListModel

    model = CaseListModel(demo_context.inbox, page_size=7)
    model.set_query(CaseQuery())
    qtmodeltester.check(model)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == demo_context.inbox.count(CaseQuery())
    qtmodeltester.check(model)


def test_scrolling_fetches_more_pages_lazily(qtbot, demo_context) -> None:
    from app.ui.case_list_model import CaseListModel

    model = CaseListModel(demo_context.inbox, page_size=20)
    model.set_query(CaseQuery())
    assert model.rowCount() == 20 and model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == 40
    ids = [model.case_at(r).id for r in range(model.rowCount())]
    assert len(set(ids)) == 40


def test_geometry_and_splitters_are_remembered(qtbot, demo_context, asker, qsettings) -> None:
    first = MainWindow(demo_context, asker=asker, qsettings=qsettings)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.resize(700, 500)
    qtbot.waitUntil(lambda: first.width() == 700)
    first.splitter.setSizes([90, 160, 300, 110])
    sizes = first.splitter.sizes()
    first.close()
    second = MainWindow(
        demo_context,
        asker=asker,
        qsettings=QSettings(qsettings.fileName(), QSettings.Format.IniFormat),
    )
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (700, 500)
    assert second.splitter.sizes() == sizes
    assert QApplication.instance() is not None


def test_case_rows_fit_the_list_without_a_sideways_scrollbar(qtbot, window: MainWindow) -> None:
    window.resize(1100, 700)
    window.splitter.setSizes([150, 250, 450, 250])  # a narrow list column
    qtbot.waitUntil(lambda: 200 < window.list.viewport().width() < 250)
    bar = window.list.horizontalScrollBar()
    qtbot.waitUntil(lambda: not bar.isVisible())
    row = window.list.visualRect(window.model.index(0, 0))
    assert row.width() == window.list.viewport().width()  # each row is as wide as the list


def test_person_panel_cases_fit_the_panel_with_the_whole_line_in_a_tooltip(
    qtbot, window: MainWindow
) -> None:
    window.resize(1100, 700)
    window.splitter.setSizes([150, 300, 450, 200])  # a narrow person panel
    history = window.person_panel.history
    assert history.count() >= 1
    item = history.item(0)
    qtbot.waitUntil(lambda: history.fontMetrics().horizontalAdvance(item.text()) > history.width())
    assert history.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert not history.horizontalScrollBar().isVisible()
    assert history.textElideMode() == Qt.TextElideMode.ElideRight
    assert item.toolTip() == item.text() and item.text().endswith(
        window.context.inbox.person(window.person_panel.person_id).cases[0].snippet
    )
