"""EPO OPS 3.2 XML: biblio search pages, faults, and the `X-Throttling-Control` header."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml import etree

from pipeline.normalise import clean_text

NS = {"e": "http://www.epo.org/exchange", "o": "http://ops.epo.org"}
_SERVICE = re.compile(r"(\w+)=(green|yellow|red|black):(\d+)")


class NotOps(ValueError):
    """The body is not OPS XML (HTML, empty, truncated)."""


@dataclass(frozen=True)
class OpsDoc:
    """One publication with its bibliographic data."""

    docdb: str
    family_id: str | None
    title: str
    title_lang: str | None
    abstract: str
    published: date | None
    cpc: tuple[str, ...] = ()
    applicants: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpsPage:
    """A search page: documents, references without data, the total and the range served."""

    total: int
    begin: int
    end: int
    docs: list[OpsDoc] = field(default_factory=list)
    references_only: int = 0


def _root(body: bytes) -> etree._Element:
    if not body.strip():
        raise NotOps("empty body")
    try:
        return etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        raise NotOps(f"not XML ({error})") from error


def parse_fault(body: bytes) -> str | None:
    """`CODE: message` of an OPS `<fault>` or a gateway `<error>`; None for anything else."""
    try:
        root = _root(body)
    except NotOps:
        return None
    if etree.QName(root).localname not in ("fault", "error"):
        return None
    code = root.findtext("{*}code") or root.findtext("code") or ""
    message = root.findtext("{*}message") or root.findtext("message") or ""
    return f"{code.strip()}: {message.strip()}".strip(": ")


def _pick(nodes: list[etree._Element]) -> tuple[str, str | None]:
    """The English text when there is one, else the first."""
    if not nodes:
        return "", None
    chosen = next((n for n in nodes if n.get("lang") == "en"), nodes[0])
    return clean_text(" ".join(chosen.itertext())), chosen.get("lang")


def _cpc(doc: etree._Element) -> tuple[str, ...]:
    codes = []
    for node in doc.iterfind(".//e:patent-classification", NS):
        parts = [
            node.findtext(f"e:{tag}", "", NS).strip()
            for tag in ("section", "class", "subclass", "main-group", "subgroup")
        ]
        if all(parts):
            codes.append(f"{''.join(parts[:3])}{parts[3]}/{parts[4]}")
    return tuple(dict.fromkeys(codes))


def _published(doc: etree._Element) -> date | None:
    text = doc.findtext(
        ".//e:publication-reference/e:document-id[@document-id-type='docdb']/e:date", "", NS
    ).strip()
    try:
        return datetime.strptime(text, "%Y%m%d").date() if text else None
    except ValueError:
        return None


def parse_document(doc: etree._Element) -> OpsDoc:
    """One `exchange-document`."""
    title, lang = _pick(doc.findall(".//e:invention-title", NS))
    abstract, _ = _pick(doc.findall(".//e:abstract", NS))
    names = doc.iterfind(".//e:applicant[@data-format='epodoc']/e:applicant-name/e:name", NS)
    return OpsDoc(
        docdb=f"{doc.get('country')}.{doc.get('doc-number')}.{doc.get('kind')}",
        family_id=doc.get("family-id"),
        title=title,
        title_lang=lang,
        abstract=abstract,
        published=_published(doc),
        cpc=_cpc(doc),
        applicants=tuple(clean_text(n.text) for n in names if n.text),
    )


def parse_search(body: bytes) -> OpsPage:
    """A `published-data/search[/biblio]` answer."""
    root = _root(body)
    search = root.find("o:biblio-search", NS)
    if search is None:
        raise NotOps(f"not an OPS search answer (<{etree.QName(root).localname}>)")
    served = search.find("o:range", NS)
    begin = int(served.get("begin", "1")) if served is not None else 1
    end = int(served.get("end", "0")) if served is not None else 0
    docs = [parse_document(d) for d in search.iterfind(".//e:exchange-document", NS)]
    refs = len(search.findall(".//o:search-result/o:publication-reference", NS))
    return OpsPage(
        total=int(search.get("total-result-count", "0")),
        begin=begin,
        end=end,
        docs=docs,
        references_only=refs,
    )


def throttling(header: str | None) -> dict[str, tuple[str, int]]:
    """`X-Throttling-Control` as service -> (colour, requests per minute)."""
    return {
        service: (colour, int(rate)) for service, colour, rate in _SERVICE.findall(header or "")
    }
