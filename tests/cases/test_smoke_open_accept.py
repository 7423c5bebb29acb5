from cases import services
from cases.models import CaseStatus
from payments.models import Refund


def test_case_accept_by_merchant_refunds_payment_once(payment, customer, merchant):
    """Opening a case and accepting it refunds the whole payment exactly once."""
    case = services.case_open(customer=customer, payment=payment, reason="not_received", description="Never came")
    case = services.case_accept(case=case, actor=merchant)
    payment.refresh_from_db()
    assert case.status == CaseStatus.FINAL
    assert case.outcome == "refunded"
    assert payment.refunded_cents == payment.amount_cents
    assert Refund.objects.filter(case=case).count() == 1
