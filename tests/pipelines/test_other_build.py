"""The other-domain texts' HTML reader (`pipelines.other_build.FaqText`); the build itself downloads packages and is
run by hand."""

import pytest

from pipelines.other_build import FaqText


@pytest.mark.parametrize("br, meta", [("<br>", '<meta charset="utf-8">'), ("<br/>", '<meta charset="utf-8"/>')])
def test_blocks_are_lines_and_skipped_parts_end_even_with_void_tags(br, meta):
    parser = FaqText()
    parser.feed(f"<html><head>{meta}<title>t</title></head><body><div class=\"toc\"><p>목차{br}항목</p></div>"
                f"<h2>제목</h2><p>한국어 문단,{br}둘째 줄</p><ul><li>목록</li></ul><script>x()</script></body></html>")
    parser.close()
    parser._flush()
    assert parser.lines == ["제목", "한국어 문단,둘째 줄", "목록"]
