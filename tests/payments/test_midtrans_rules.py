import pytest

from payments.midtrans_rules import (
    PaymentOutcome,
    is_legal_move,
    outcome,
    parse_amount,
    signature,
    verify_signature,
)

# The test vector from ../shared/INTEGRATIONS.md.
VECTOR = {
    "order_id": "1111",
    "status_code": "200",
    "gross_amount": "100000.00",
    "server_key": "askvnoibnosifnboseofinbofinfgbiufglnbfg",
    "signature": "edc076b21793ebe3e17926350f5b8ae67d902fe657b3d0aa31b932d5c127e2375d308a2bc94f3265ac2d80a1f181a79b997"
    "ac178a236fcff35af263fc4d4c231",
}


def payload(**overrides):
    body = {
        "order_id": VECTOR["order_id"],
        "status_code": VECTOR["status_code"],
        "gross_amount": VECTOR["gross_amount"],
        "signature_key": VECTOR["signature"],
    }
    body.update(overrides)
    return body


def test_the_documented_test_vector():
    assert (
        signature(
            order_id=VECTOR["order_id"],
            status_code=VECTOR["status_code"],
            gross_amount=VECTOR["gross_amount"],
            server_key=VECTOR["server_key"],
        )
        == VECTOR["signature"]
    )
    assert verify_signature(payload(), server_key=VECTOR["server_key"])


@pytest.mark.parametrize(
    "changes",
    [
        {"gross_amount": "100000"},  # the exact string matters: "100000" is not "100000.00"
        {"gross_amount": "1000000.00"},
        {"status_code": "201"},
        {"order_id": "1112"},
        {"signature_key": "0" * 128},
        {"signature_key": ""},
        {"signature_key": None},
        {"order_id": None},
    ],
)
def test_anything_changed_or_missing_fails(changes):
    assert not verify_signature(payload(**changes), server_key=VECTOR["server_key"])


def test_the_wrong_server_key_fails():
    assert not verify_signature(payload(), server_key="another-merchant-key")


@pytest.mark.parametrize(
    ("status", "fraud", "meaning"),
    [
        ("settlement", None, PaymentOutcome.PAID),
        ("capture", "accept", PaymentOutcome.PAID),
        ("capture", "challenge", PaymentOutcome.CHALLENGE),
        ("capture", "deny", PaymentOutcome.FAILED),
        ("pending", None, PaymentOutcome.PENDING),
        ("deny", None, PaymentOutcome.FAILED),
        ("cancel", None, PaymentOutcome.FAILED),
        ("expire", None, PaymentOutcome.FAILED),
        ("failure", None, PaymentOutcome.FAILED),
        ("refund", None, PaymentOutcome.REFUNDED),
        ("partial_refund", None, PaymentOutcome.PARTIALLY_REFUNDED),
        ("authorize", None, None),
    ],
)
def test_status_meanings(status, fraud, meaning):
    assert outcome(status, fraud) == meaning


@pytest.mark.parametrize(
    ("current", "incoming", "legal"),
    [
        ("", "pending", True),
        ("pending", "settlement", True),
        ("pending", "expire", True),
        ("capture", "settlement", True),
        ("settlement", "refund", True),
        ("settlement", "pending", False),  # out of order: stale
        ("settlement", "settlement", False),  # duplicate: nothing to apply
        ("expire", "settlement", False),
        ("refund", "settlement", False),
    ],
)
def test_legal_moves(current, incoming, legal):
    assert is_legal_move(current, incoming) is legal


def test_amounts_are_whole_rupiah():
    assert parse_amount("154600.00") == 154600
    assert parse_amount("154600") == 154600
    for bad in ("154600.50", "abc", "-1.00", ""):
        with pytest.raises(ValueError):
            parse_amount(bad)
