"""The merchant's side, per company: included at ``merchant/`` with namespace "merchant"."""

from django.urls import path

from .views import merchant as views

app_name = "merchant"

urlpatterns = [
    path("", views.home, name="home"),
    path("<int:company_id>/", views.company_home, name="company"),
    path("<int:company_id>/cases/", views.case_list, name="cases"),
    path("<int:company_id>/cases/export.csv", views.case_export, name="cases-export"),
    path("<int:company_id>/cases/<int:case_id>/", views.case_detail, name="case"),
    path("<int:company_id>/cases/<int:case_id>/message/", views.case_message, name="case-message"),
    path("<int:company_id>/cases/<int:case_id>/request-info/", views.case_request_info, name="case-request-info"),
    path("<int:company_id>/cases/<int:case_id>/accept/", views.case_accept, name="case-accept"),
    path("<int:company_id>/cases/<int:case_id>/deny/", views.case_deny, name="case-deny"),
    path("<int:company_id>/cases/<int:case_id>/appeal/", views.case_appeal, name="case-appeal"),
    path("<int:company_id>/cases/<int:case_id>/appeal-waive/", views.case_appeal_waive, name="case-appeal-waive"),
    path("<int:company_id>/payments/", views.payment_list, name="payments"),
    path("<int:company_id>/settings/auto-respond/", views.auto_respond, name="auto-respond"),
]
