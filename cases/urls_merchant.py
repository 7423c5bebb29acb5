"""The merchant's side, per company: included at ``merchant/`` with namespace "merchant"."""

from django.urls import path

from .views import merchant as views

app_name = "merchant"

urlpatterns = [
    path("", views.home, name="home"),
    path("<id:company_id>/", views.company_home, name="company"),
    path("<id:company_id>/cases/", views.case_list, name="cases"),
    path("<id:company_id>/cases/export.csv", views.case_export, name="cases-export"),
    path("<id:company_id>/cases/<id:case_id>/", views.case_detail, name="case"),
    path("<id:company_id>/cases/<id:case_id>/message/", views.case_message, name="case-message"),
    path("<id:company_id>/cases/<id:case_id>/request-info/", views.case_request_info, name="case-request-info"),
    path("<id:company_id>/cases/<id:case_id>/accept/", views.case_accept, name="case-accept"),
    path("<id:company_id>/cases/<id:case_id>/deny/", views.case_deny, name="case-deny"),
    path("<id:company_id>/cases/<id:case_id>/offer/", views.case_offer, name="case-offer"),
    path("<id:company_id>/cases/<id:case_id>/refund-in-full/", views.case_refund_in_full, name="case-refund-in-full"),
    path("<id:company_id>/cases/<id:case_id>/appeal/", views.case_appeal, name="case-appeal"),
    path("<id:company_id>/cases/<id:case_id>/appeal-waive/", views.case_appeal_waive, name="case-appeal-waive"),
    path("<id:company_id>/payments/", views.payment_list, name="payments"),
    path("<id:company_id>/settings/auto-respond/", views.auto_respond, name="auto-respond"),
    path("<id:company_id>/settings/policies/", views.policies, name="policies"),
]
