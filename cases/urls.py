from django.urls import path

from .views import customer, files, home

app_name = "cases"

urlpatterns = [
    path("", home.home, name="home"),
    path("orders/", customer.orders, name="orders"),
    path("orders/<int:payment_id>/refund/", customer.case_open, name="case-open"),
    path("cases/", customer.case_list, name="case-list"),
    path("cases/<int:case_id>/", customer.case_detail, name="case-detail"),
    path("cases/<int:case_id>/reply/", customer.case_reply, name="case-reply"),
    path("cases/<int:case_id>/message/", customer.case_message, name="case-message"),
    path("cases/<int:case_id>/withdraw/", customer.case_withdraw, name="case-withdraw"),
    path("cases/<int:case_id>/appeal/", customer.case_appeal, name="case-appeal"),
    path("cases/<int:case_id>/accept-decision/", customer.case_appeal_waive, name="case-appeal-waive"),
    path("files/<int:attachment_id>/", files.attachment_download, name="attachment-download"),
]
