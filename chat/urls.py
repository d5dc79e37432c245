from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/<str:reference>/", views.conversation, name="conversation"),
    path("messages/<str:reference>/poll/", views.poll, name="poll"),
    path("messages/<str:reference>/older/", views.older, name="older"),
    path("messages/<str:reference>/check/", views.check, name="check"),
    path("messages/<str:reference>/report/", views.report, name="report"),
    path("messages/<str:reference>/block/", views.block, name="block"),
]
