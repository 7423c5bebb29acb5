from django.urls import path

from .views import customer, files, home

app_name = "cases"

urlpatterns = [
    path("", home.home, name="home"),
    path("orders/", customer.orders, name="orders"),
    path("orders/<id:payment_id>/refund/", customer.case_open, name="case-open"),
    path("cases/", customer.case_list, name="case-list"),
    path("cases/<id:case_id>/", customer.case_detail, name="case-detail"),
    path("cases/<id:case_id>/reply/", customer.case_reply, name="case-reply"),
    path("cases/<id:case_id>/message/", customer.case_message, name="case-message"),
    path("cases/<id:case_id>/withdraw/", customer.case_withdraw, name="case-withdraw"),
    path("cases/<id:case_id>/offer/accept/", customer.case_offer_accept, name="case-offer-accept"),
    path("cases/<id:case_id>/offer/decline/", customer.case_offer_decline, name="case-offer-decline"),
    path("cases/<id:case_id>/appeal/", customer.case_appeal, name="case-appeal"),
    path("cases/<id:case_id>/accept-decision/", customer.case_appeal_waive, name="case-appeal-waive"),
    path("files/<id:attachment_id>/", files.attachment_download, name="attachment-download"),
]
