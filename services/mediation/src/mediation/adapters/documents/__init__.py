"""The printable documents: what an agreement (人民调解协议书) and a case record (人民调解案件记录) say, built once
(``agreement``, ``record``) as a small document model (``model``), and rendered as HTML (``html``) or PDF (``pdf``),
so the two forms always say the same."""
