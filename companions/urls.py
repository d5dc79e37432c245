from django.urls import path

from companions import private_files, views

app_name = "companions"

urlpatterns = [
    path("companions/", views.search, name="search"),
    path("c/<slug:slug>/", views.profile_page, name="profile"),
    path("c/<slug:slug>/block/", views.profile_block, name="block"),
    path("companion/", views.dashboard, name="dashboard"),
    path("companion/listing/", views.listing, name="listing"),
    path("companion/level/", views.level, name="level"),
    path("companion/profile/", views.profile_edit, name="profile_edit"),
    path("companion/photos/", views.photos, name="photos"),
    path("companion/photos/<int:photo_id>/delete/", views.photo_delete, name="photo_delete"),
    path("companion/photos/<int:photo_id>/cover/", views.photo_cover, name="photo_cover"),
    path("companion/photos/<int:photo_id>/move/", views.photo_move, name="photo_move"),
    path("companion/verification/", views.verification, name="verification"),
    path("companion/verification/<int:pk>/<str:kind>/", private_files.identity_file, name="identity_file"),
    path("companion/schedule/", views.schedule, name="schedule"),
    path("companion/schedule/copy/", views.schedule_copy, name="schedule_copy"),
    path("companion/schedule/rules/", views.schedule_rules, name="schedule_rules"),
    path("companion/time-off/", views.time_off_add, name="time_off_add"),
    path("companion/time-off/<int:time_off_id>/delete/", views.time_off_delete, name="time_off_delete"),
]
