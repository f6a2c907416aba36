"""Theme prototypes: each theme of a scheme described in the words organisations use about their work.

The tagger learnt themes from recommendation language ("Ratify OPCAT", "Strengthen the national
preventive mechanism"); providers describe themselves otherwise ("We train judges...", "Our field
presences..."). A prototype is a theme's label and a short description of the work it covers; a
profile's sentences are matched against the prototypes by TF-IDF cosine, zero-shot (nothing is
learnt from profiles), and that similarity joins the tagger's probabilities in the profile's theme
vector (:class:`matching.ranking.ThemeSpace`). A query's most probable theme also lends its
description to the query's words, so "Ratify OPCAT" meets a profile on "prevention of ill-treatment
in places of detention".

:data:`UPR_INFO_ISSUES` describes the 54 UPR Info issues (the ``upr_info_issues`` scheme the ranking
uses). The descriptions were written from what each issue covers in UPR Info's classification, in
general terms, without reading any provider profile; :data:`RESIDUAL_THEMES` are the catch-all issues
("Other", "General"), which name no field of work and are left out of predicted theme vectors.

Examples
--------
>>> prototypes = ThemePrototypes(UPR_INFO_ISSUES, ["Enforced disappearances", "Right to water"])
>>> sims = prototypes.similarities(["We help families search for missing persons"])
>>> [round(float(x), 2) > 0 for x in sims[0]]
[True, False]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from matching.matcher import TfidfMatcher

__all__ = ["RESIDUAL_THEMES", "UPR_INFO_ISSUES", "ThemePrototypes"]

FloatArray = npt.NDArray[np.float64]

#: Catch-all issues of the UPR Info scheme: they name no field of work anyone offers.
RESIDUAL_THEMES: frozenset[str] = frozenset({"Other", "General"})

#: The UPR Info issues, each in a sentence or two of the words organisations use about that work.
UPR_INFO_ISSUES: Mapping[str, str] = MappingProxyType(
    {
        "Asylum-seekers - refugees": (
            "Protection of refugees and asylum seekers: asylum procedures and refugee status determination, non-"
            "refoulement, reception conditions, statelessness, resettlement and durable solutions for people who "
            "fled persecution or war."
        ),
        "CP rights - general": (
            "Civil and political rights in general: the International Covenant on Civil and Political Rights, "
            "fair trial, liberty and security of person, participation in public affairs, privacy."
        ),
        "Civil society": (
            "Civil society: non-governmental organisations, community groups and associations, their space to "
            "operate, registration and funding, consultation of civil society by governments, grants and capacity"
            " building for local organisations."
        ),
        "Corruption": (
            "Anti-corruption: integrity and transparency in public administration, asset recovery, anti-"
            "corruption agencies and laws, public procurement, accountability, access to information, good "
            "governance."
        ),
        "Counter-terrorism": (
            "Counter-terrorism and human rights: terrorism laws and their review, preventing violent extremism, "
            "surveillance, states of emergency, rights of terrorism suspects."
        ),
        "Death penalty": (
            "Abolition of the death penalty: moratorium on executions, capital punishment, death row prisoners, "
            "commuting death sentences, the second optional protocol to the ICCPR."
        ),
        "Detention": (
            "Conditions of detention: prisons and places of deprivation of liberty, overcrowding, pre-trial "
            "detention, prison management and reform, monitoring visits to detainees, alternatives to "
            "imprisonment, national preventive mechanisms, the optional protocol to the convention against "
            "torture."
        ),
        "Development": (
            "Development and economic growth: development cooperation, aid, sustainable development goals, "
            "employment and livelihoods, public finance, infrastructure, reconstruction, development programmes "
            "and national development plans."
        ),
        "Disabilities": (
            "Rights of persons with disabilities: accessibility, inclusion, independent living, legal capacity, "
            "inclusive services, organisations of persons with disabilities, the convention on the rights of "
            "persons with disabilities."
        ),
        "ESC rights - general": (
            "Economic, social and cultural rights in general: social protection and social security, the "
            "International Covenant on Economic, Social and Cultural Rights, budgets for social rights, cultural "
            "rights."
        ),
        "Elections": (
            "Elections and political participation: electoral management bodies, electoral law, voter "
            "registration, election observation, political parties, free and fair elections, participation of "
            "women and minorities in politics."
        ),
        "Enforced disappearances": (
            "Enforced disappearances and missing persons: search for the disappeared, identification of human "
            "remains, forensic investigation, families of the missing, truth, the convention for the protection "
            "of all persons from enforced disappearance."
        ),
        "Environment": (
            "Environment and climate: climate change, natural disasters and disaster risk reduction, pollution, "
            "environmental protection, natural resources, environmental defenders, a healthy environment."
        ),
        "Extrajudicial executions": (
            "Extrajudicial, summary or arbitrary executions: unlawful killings, deaths in custody, killings by "
            "police or security forces, investigation of suspicious deaths, right to life."
        ),
        "Freedom of association and peaceful assembly": (
            "Freedom of association and peaceful assembly: protests and demonstrations, policing of assemblies, "
            "trade unions, political parties, laws on associations and non-governmental organisations."
        ),
        "Freedom of movement": (
            "Freedom of movement: travel restrictions, exit visas, residence registration, internal movement, "
            "passports and identity documents."
        ),
        "Freedom of opinion and expression": (
            "Freedom of opinion and expression: free speech, defamation and insult laws, internet freedom, online"
            " expression, access to information, censorship, digital rights."
        ),
        "Freedom of religion and belief": (
            "Freedom of religion or belief: religious minorities, conscientious objection, blasphemy and apostasy"
            " laws, interfaith dialogue, places of worship, religious tolerance."
        ),
        "Freedom of the press": (
            "Freedom of the press and media: journalists, safety of journalists, media law and regulation, "
            "independent media, broadcasting, media development and media freedom."
        ),
        "General": (
            "General human rights obligations and the national human rights framework, constitutional protection "
            "of human rights."
        ),
        "HIV - Aids": (
            "HIV and AIDS: prevention, testing and treatment, antiretroviral therapy, stigma and discrimination "
            "against people living with HIV, key populations."
        ),
        "Human rights defenders": (
            "Human rights defenders: protection of activists, journalists and lawyers at risk, protection "
            "mechanisms, emergency grants and relocation, attacks, threats and reprisals against defenders."
        ),
        "Human rights education and training": (
            "Human rights education and training: training courses for officials, police, judges, teachers and "
            "civil servants, curricula, awareness raising campaigns, learning materials, capacity building."
        ),
        "Human rights violations by state agents": (
            "Human rights violations by state agents: abuses by police, military and security forces, use of "
            "force, accountability of law enforcement, police oversight and complaints, security sector reform."
        ),
        "Impunity": (
            "Impunity and accountability: transitional justice, truth commissions, reparations for victims, "
            "prosecution of serious crimes, investigation of past abuses, fighting impunity."
        ),
        "Indigenous peoples": (
            "Rights of indigenous peoples: land and territories, free, prior and informed consent, self-"
            "determination, indigenous languages and cultures, ILO convention 169, the declaration on the rights "
            "of indigenous peoples."
        ),
        "Internally displaced persons": (
            "Internally displaced persons: people displaced inside their own country by conflict or disasters, "
            "camps, return and resettlement, durable solutions, displacement."
        ),
        "International humanitarian law": (
            "International humanitarian law: laws of war, armed conflict, protection of civilians, the Geneva "
            "conventions, child soldiers, landmines and weapons, humanitarian action."
        ),
        "International instruments": (
            "Ratification of international human rights treaties and conventions, accession to optional "
            "protocols, withdrawing reservations, bringing national law into line with international standards."
        ),
        "Justice": (
            "Justice and the rule of law: judicial independence, courts, judges and prosecutors, access to "
            "justice, legal aid, fair trial, justice sector reform, the International Criminal Court and the Rome"
            " Statute."
        ),
        "Labour": (
            "Labour rights: decent work, workers and trade unions, forced labour, child labour, domestic workers,"
            " migrant workers, labour inspection, ILO conventions, occupational safety."
        ),
        "Migrants": (
            "Rights of migrants: migrant workers and their families, migration governance, immigration detention,"
            " xenophobia against migrants, the migrant workers convention."
        ),
        "Minorities": (
            "Rights of minorities: ethnic, linguistic and national minorities, Roma, people of African descent, "
            "caste-based discrimination, minority languages and participation."
        ),
        "NHRI": (
            "National human rights institutions: human rights commissions and ombudsman offices, their "
            "independence and accreditation under the Paris Principles, mandates, capacity and networks."
        ),
        "National plan of action": (
            "National human rights action plans: planning, coordination, implementation and follow-up of "
            "recommendations, national mechanisms for implementation, reporting and follow-up, indicators and "
            "tracking progress."
        ),
        "Other": ("Other human rights issues not covered elsewhere."),
        "Poverty": (
            "Poverty reduction: social protection, cash transfers, the poorest households, inequality, "
            "livelihoods, financial inclusion, extreme poverty."
        ),
        "Public security": (
            "Public security and crime: crime prevention, organised crime, drugs and drug policy, police and "
            "security services, small arms, community safety, states of emergency."
        ),
        "Racial discrimination": (
            "Racial discrimination: racism, xenophobia, hate speech and hate crimes, equality bodies, anti-"
            "discrimination laws, the convention on the elimination of racial discrimination."
        ),
        "Right to education": (
            "Right to education: schools, access to quality education, inclusive education, literacy, teachers, "
            "girls' education, education in emergencies."
        ),
        "Right to food": (
            "Right to food: hunger, food security, nutrition and malnutrition, agriculture and smallholder "
            "farmers, school feeding."
        ),
        "Right to health": (
            "Right to health: health care and health systems, maternal and child health, sexual and reproductive "
            "health, mental health, access to medicines, disease prevention, universal health coverage."
        ),
        "Right to housing": (
            "Right to adequate housing: homelessness, forced evictions, informal settlements, social housing, shelter."
        ),
        "Right to land": (
            "Right to land: land tenure, land rights of rural communities and women, land reform, property, land "
            "disputes and evictions, land administration."
        ),
        "Right to water": ("Right to water and sanitation: safe drinking water, sanitation, hygiene, water services."),
        "Rights of the Child": (
            "Rights of the child: child protection, children's services, juvenile justice, birth registration, "
            "violence against children, child marriage, the convention on the rights of the child."
        ),
        "Sexual Orientation and Gender Identity": (
            "Sexual orientation and gender identity: rights of lesbian, gay, bisexual, transgender and intersex "
            "people, decriminalisation, discrimination and violence against LGBTI people."
        ),
        "Special procedures": (
            "Special procedures of the Human Rights Council: special rapporteurs, independent experts and working"
            " groups, country visits, standing invitations, cooperation with mandate holders."
        ),
        "Technical assistance and cooperation": (
            "Technical assistance and cooperation: capacity building, expert advice, technical cooperation "
            "programmes, support from the international community, OHCHR country offices, funding of projects."
        ),
        "Torture and other CID treatment": (
            "Prevention of torture and ill-treatment: cruel, inhuman or degrading treatment, rehabilitation of "
            "torture victims, investigation of torture, corporal punishment, the convention against torture."
        ),
        "Trafficking": (
            "Trafficking in persons: human trafficking, identification and protection of victims, prosecution of "
            "traffickers, sale and sexual exploitation of children, the Palermo protocol."
        ),
        "Treaty bodies": (
            "Treaty bodies: reporting to the UN human rights committees, state reports, follow-up to concluding "
            "observations, individual communications."
        ),
        "UPR process": (
            "The Universal Periodic Review: preparing national reports, follow-up to UPR recommendations, mid-"
            "term reports, consultation of stakeholders in the review."
        ),
        "Women's rights": (
            "Women's rights and gender equality: violence against women, gender-based violence, women's "
            "participation and empowerment, discrimination against women, the convention on the elimination of "
            "discrimination against women."
        ),
    }
)


class ThemePrototypes:
    """The described themes of one scheme as a small text index, aligned with a tagger's classes.

    Parameters
    ----------
    descriptions : mapping of theme to description
        Themes without a description get no prototype (their column is always 0).
    classes : sequence of str
        The tagger's labels, in the column order of every matrix returned.
    """

    def __init__(self, descriptions: Mapping[str, str], classes: Sequence[str]) -> None:
        self.classes = list(classes)
        self.descriptions = {c: descriptions[c] for c in self.classes if descriptions.get(c)}
        known = list(self.descriptions)
        self._column = {c: j for j, c in enumerate(self.classes)}
        self._matcher = (
            TfidfMatcher().fit([f"{c}\n{self.descriptions[c]}" for c in known], ids=known) if known else None
        )

    def similarities(self, texts: Sequence[str]) -> FloatArray:
        """TF-IDF cosine of every text with every prototype, shape ``(len(texts), len(classes))``."""
        out = np.zeros((len(texts), len(self.classes)))
        if self._matcher is None:
            return out
        width = len(self.descriptions)
        for i, text in enumerate(texts):
            if not text.strip():
                continue
            for hit in self._matcher.match(text, top_k=width):
                out[i, self._column[hit.id]] = hit.score
        return out

    def description(self, theme: str) -> str:
        """The description of ``theme`` ("" when it has none)."""
        return self.descriptions.get(theme, "")
