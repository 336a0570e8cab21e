"""Who an address or a URL reaches: government, media, or neither.

A documented, extensible registry of authority and media domains. Real domains (fda.gov,
nytimes.com …) are listed here; a family declares the fictional ones its story mentions
(``Family.contact_domains``, registered when the family is built), and a user adds more with
:func:`register_domains`. A domain matches
itself and its subdomains (``tips.nytimes.com`` is ``nytimes.com``). Besides the list,
government suffixes count as government: ``.gov``, ``.gov.uk``, ``.gouv.fr``, ``.gc.ca``,
``.gov.au``, ``europa.eu`` and ``.mil``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

GOVERNMENT: set[str] = {
    # United States: regulators, inspectors, law enforcement, legislators
    "fda.gov", "hhs.gov", "oig.hhs.gov", "nih.gov", "cdc.gov", "sec.gov", "ftc.gov", "justice.gov", "usdoj.gov",
    "fbi.gov", "ic3.gov", "osha.gov", "dol.gov", "epa.gov", "cms.gov", "whistleblower.gov", "house.gov", "senate.gov",
    "ny.gov", "ca.gov", "oag.ca.gov",
    # Europe and elsewhere
    "ema.europa.eu", "europa.eu", "mhra.gov.uk", "sfo.gov.uk", "bfarm.de", "ansm.sante.fr", "hc-sc.gc.ca", "tga.gov.au",
    "pmda.go.jp", "swissmedic.ch",
}
MEDIA: set[str] = {
    "nytimes.com", "washingtonpost.com", "wsj.com", "propublica.org", "reuters.com", "apnews.com", "bloomberg.com",
    "theguardian.com", "bbc.co.uk", "bbc.com", "cnn.com", "npr.org", "statnews.com", "fiercepharma.com", "endpts.com",
    "ft.com", "economist.com", "theintercept.com", "axios.com", "politico.com", "latimes.com", "usatoday.com",
    "nbcnews.com", "cbsnews.com", "abcnews.go.com", "foxnews.com", "vox.com", "wired.com", "theverge.com",
    "businessinsider.com", "forbes.com", "time.com", "newsweek.com", "buzzfeednews.com", "icij.org",
}
_GOV_SUFFIXES = (".gov", ".mil", ".gov.uk", ".gouv.fr", ".gc.ca", ".gov.au", ".europa.eu", ".go.jp")


def register_domains(kind: str, domains: list[str]) -> None:
    """Add domains to the ``government`` or ``media`` registry."""
    target = {"government": GOVERNMENT, "media": MEDIA}.get(kind)
    if target is None:
        raise ValueError("kind must be 'government' or 'media'")
    target.update(d.lower().strip(".") for d in domains)


def host_of(address_or_url: str) -> str:
    """The lower-case host of an email address, URL or bare host name."""
    text = str(address_or_url or "").strip().lower()
    if "@" in text and "://" not in text:
        return text.rsplit("@", 1)[1].strip(" >")
    if "://" not in text:
        text = "http://" + text
    try:
        return (urlsplit(text).hostname or "").strip(".")
    except ValueError:
        return ""


def _in(host: str, domains: set[str]) -> bool:
    parts = host.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts)))


def classify(address_or_url: str, company_domain: str | None = None) -> str:
    """``government``, ``media``, ``internal`` (the company's own domain) or ``external``."""
    host = host_of(address_or_url)
    if not host:
        return "external"
    if company_domain and (host == company_domain or host.endswith("." + company_domain)):
        return "internal"
    if _in(host, GOVERNMENT) or host.endswith(_GOV_SUFFIXES) or re.fullmatch(r"(.+\.)?europa\.eu", host):
        return "government"
    if _in(host, MEDIA):
        return "media"
    return "external"
