"""Small helpers shared by the XML exporters (FCPXML, FCP7 XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def sub(parent: ET.Element, tag: str, text: object = None, **attrs: object) -> ET.Element:
    """Append ``<tag attrs>text</tag>`` to ``parent`` (attributes with None values are left out)."""
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = str(text)
    return el


def document(root: ET.Element, doctype: str, comment: str | None = None) -> bytes:
    """UTF-8 document: declaration, ``<!DOCTYPE doctype>``, an optional comment, then ``root``."""
    ET.indent(root, space="  ")
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {doctype}>\n'
    if comment:
        head += "<!-- " + comment.replace("--", "- -") + " -->\n"
    return (head + ET.tostring(root, encoding="unicode") + "\n").encode()
