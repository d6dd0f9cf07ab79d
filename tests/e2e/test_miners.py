"""Migrant miners with TB (Southern Africa): a Mozambican ex-miner writes in Portuguese, home in
Xai-Xai; a Basotho ex-miner writes in English, home in Mohale's Hoek. Each reaches the
ex-mineworkers' association's queue (not KHANA's), is escalated to the national TB programme of
the country they live in now, then to the regional mechanism (SADC / ARASA).

Driven only from outside: signed SMS to `serve`, `samleng worker` as its own process, the
handler's queue and escalations through /api/v1 with a real login, the bodies' emails at the
SMTP fake.
"""

from __future__ import annotations

from tests.support.e2e import Deployment

KHANA = "handler@khana.demo"
EXMINERS = "handler@exminers.demo"
REGIONAL = "grievance@sadc-tims.example.org"
MINERS = [
    # (number, messages, marker in the narrative, national TB programme slug, its email,
    #  a word of the receipt reply and of the programme's email subject in the reporter's language)
    ("+258840000001",
     ["Trabalhei 14 anos nas minas de ouro em Carletonville. Agora tenho tuberculose e o fundo de "
      "compensação nunca respondeu. O hospital aqui não tem medicamentos de TB", "3", "Xai-Xai", "0"],
     "fundo de compensação", "mz-ntp", "pnct@mozambique-health.example.org", ("ESTADO", "por favor responda")),
    ("+266580000002",
     ["I am an ex-mineworker from the Free State gold mines, I have TB again and silicosis. "
      "The compensation office in Maseru keeps sending me back", "3", "Mohales Hoek", "0"],
     "compensation office in Maseru", "ls-ntp", "ntp@lesotho-health.example.org", ("STATUS", "please answer")),
]


def test_ex_miners_reach_the_association_then_their_tb_programme_then_the_region(deployment: Deployment) -> None:
    deployment.load_demo()
    deployment.start_serve()
    deployment.start_worker()
    for number, messages, _marker, _ntp, _email, (reply_word, _subject_word) in MINERS:
        phone = deployment.phone(number)
        for message in messages:
            answer = phone.text(message)
            assert answer, f"{message!r} got no answer"
        assert reply_word in answer, f"{number}'s receipt is not in their language: {answer!r}"

    association = deployment.handler(EXMINERS)
    khana = deployment.handler(KHANA)
    for number, _messages, marker, ntp, ntp_email, (_reply_word, subject_word) in MINERS:
        case = deployment.wait(lambda m=marker: association.find_case(m), f"{number}'s case in the association's queue")
        case_id = case["id"]
        detail = deployment.wait(lambda c=case_id: (d := association.get(f"/api/v1/cases/{c}"))["population"] == "miner"
                                 and d["place_id"] and d, "triage: population miner, place named")
        assert khana.find_case(marker) is None, "KHANA's queue must not hold a miner's case"
        assert deployment.client.get(f"/api/v1/cases/{case_id}", headers=khana.headers).status_code == 404
        state = association.get(f"/api/v1/cases/{case_id}/escalation")
        assert [r["body"] for r in state["ladder"]] == [ntp, "sadc-tb-mining"], (detail, state)

        first = association.post(f"/api/v1/cases/{case_id}/escalate", {"after": 0})["escalation"]
        assert first["body"] == ntp
        deployment.wait(lambda e=ntp_email: deployment.mail_to(e), f"the email to {ntp}")
        subject = str(deployment.mail_to(ntp_email)[-1]["Subject"])
        assert subject_word in subject, f"{ntp}'s email is not in its language: {subject!r}"
        before = len(deployment.mail_to(REGIONAL))
        second = association.post(f"/api/v1/cases/{case_id}/escalate", {"after": first["id"]})["escalation"]
        assert second["body"] == "sadc-tb-mining"
        deployment.wait(lambda b=before: len(deployment.mail_to(REGIONAL)) > b, "the email to the regional mechanism")
    assert "Traceback" not in deployment.logs(), deployment.logs()
