"""The Korean corpus builder's readers and cleaning, on small inputs (no download)."""

import zipfile

import pytest

from pipelines.korean_build import dedupe_lines, split_documents
from pipelines.korean_sources import (Document, HelpPageText, clean_ui_string, dtd_strings, ftl_strings, hangul_share,
                                      kolaw_documents, normalize_line, properties_strings)


@pytest.mark.parametrize("raw, clean", [
    ("%S 파일을 찾을 수 없습니다.", "파일을 찾을 수 없습니다."),
    ("%1$S의 %2$S 설정", "의 설정"),
    ("%d개 항목, %ld개 선택", "개 항목, 개 선택"),
    ("{ $count }개의 탭 닫기", "개의 탭 닫기"),
    ("{ -brand-short-name }를 다시 시작", "Firefox를 다시 시작"),
    ("&brandShortName; 업데이트 &amp; 설정", "Firefox 업데이트 & 설정"),
    ("%PRODUCTNAME 라이터로 $(ARG1) 변환", "LibreOffice 라이터로 변환"),
    ("열기(_O)...", "열기..."), ("파일(~F)", "파일"), ("저장(&S)", "저장"), ("_X 축", "X 축"), ("0~100 범위", "0~100 범위"),
    ("‘{ $engine }’ 웹 검색", "웹 검색"), ("<strong>{ $host }</strong>에 연결", "에 연결"),
    ("#1개의 탭", "개의 탭"), ("$error_message$ 오류: $1", "오류:"), ("*[other] { $n }개 다운로드", "개 다운로드"),
    ("정의ㆍ인도・평화･통일", "정의·인도·평화·통일"),
])
def test_interface_strings_lose_placeholders_and_markers(raw, clean):
    assert clean_ui_string(raw, "Firefox") == clean


def test_lines_are_nfc_without_invisible_or_control_characters():
    assert normalize_line("  가\u200b나\u00a0\t다  ") == "가나 다"
    assert normalize_line("\u1100\u1161") == "가" and normalize_line("마\x80막\x00") == "마막"
    assert [hangul_share(s) for s in ("한글 문장", "ab한글", "abc", " ")] == [1.0, 0.5, 0.0, 0.0]


def test_help_pages_keep_the_default_variant_and_the_body_only():
    page = ('<html><head><title>제목</title></head><body><header><p>LibreOffice Help</p></header>'
            '<div id="DisplayArea"><h1>자동 변경 해제</h1><p>취소하려면 <span class="switchinline">'
            '<span hidden="true" id="MACx" class="MAC">Command</span><span hidden="true" '
            'id="defaultx">Ctrl</span></span> + Z 키를 누릅니다.<br>다음 줄</p>'
            '<script>var x = "스크립트";</script><table><tr><td>셀 1</td><td>셀 2</td></tr></table>'
            '</div><footer><p>바닥글</p></footer></body></html>')
    h = HelpPageText()
    h.feed(page)
    h.close()
    assert h.lines == ["자동 변경 해제", "취소하려면 Ctrl + Z 키를 누릅니다.", "다음 줄", "셀 1", "셀 2"]


def test_mozilla_files():
    ftl = ("# comment\nmsg-id = 첫 줄\n    둘째 줄\n    .label = 레이블\n"
           "tabs = { $n ->\n    [one] 탭 하나\n   *[other] { $n }개 탭\n}\n")
    assert [clean_ui_string(s, "Firefox") for s in ftl_strings(ftl)] == [
        "첫 줄", "둘째 줄", "레이블", "", "탭 하나", "개 탭", ""]
    props = "# c\nkey1 = 값 하나\nkey2=\\uD55C\\uAE00\nlong = 앞 \\\n    뒤\n"
    assert properties_strings(props) == ["값 하나", "한글", "앞 뒤"]
    assert dtd_strings('<!ENTITY a.label "추가">\n<!ENTITY b \'삭제\'>') == ["추가", "삭제"]


def test_only_the_constitution_is_read_from_the_wheel(tmp_path):
    wheel = tmp_path / "konlpy.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("konlpy/data/corpus/kolaw/constitution.txt", "대한민국헌법\n\n제1조 ① 대한민국은 민주공화국이다.\n")
        z.writestr("konlpy/data/corpus/kobill/1809890.txt", "법안")
    (doc,) = kolaw_documents(wheel)
    assert doc.source == "kolaw" and doc.text == "대한민국헌법\n제1조 ① 대한민국은 민주공화국이다."


def test_dedupe_and_split_are_deterministic():
    docs = [Document(f"d{i}", "help" if i % 3 else "firefox-ui", "p", "1", "MPL-2.0",
                     f"공통 줄\n문서 {i} 고유 내용 " + "가" * (i * 37 % 200)) for i in range(60)]
    assert dedupe_lines(docs) == 59
    a = split_documents(docs, 7)
    assert a == split_documents(docs, 7) and a != split_documents(docs, 8)
    assert sorted(i for ids in a.values() for i in ids) == sorted(d.id for d in docs)
    size = {d.id: len(d.text) for d in docs}
    assert 0.7 < sum(size[i] for i in a["train"]) / sum(size.values()) < 0.9
    b = split_documents([d for d in docs if d.source == "help"], 7)  # each source is split on its own
    assert set(b["test"]) == {i for i in a["test"] if int(i[1:]) % 3}
