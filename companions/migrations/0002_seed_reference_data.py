"""Reference data every environment needs: cities, activities, spoken languages, rate bounds."""

from django.db import migrations

CITIES = [
    # name, province, time zone
    ("Jakarta", "DKI Jakarta", "Asia/Jakarta"),
    ("Bandung", "Jawa Barat", "Asia/Jakarta"),
    ("Surabaya", "Jawa Timur", "Asia/Jakarta"),
    ("Yogyakarta", "DI Yogyakarta", "Asia/Jakarta"),
    ("Denpasar", "Bali", "Asia/Makassar"),
    ("Medan", "Sumatera Utara", "Asia/Jakarta"),
    ("Makassar", "Sulawesi Selatan", "Asia/Makassar"),
    ("Semarang", "Jawa Tengah", "Asia/Jakarta"),
    ("Bogor", "Jawa Barat", "Asia/Jakarta"),
    ("Depok", "Jawa Barat", "Asia/Jakarta"),
    ("Tangerang", "Banten", "Asia/Jakarta"),
    ("Tangerang Selatan", "Banten", "Asia/Jakarta"),
    ("Bekasi", "Jawa Barat", "Asia/Jakarta"),
    ("Serang", "Banten", "Asia/Jakarta"),
    ("Cirebon", "Jawa Barat", "Asia/Jakarta"),
    ("Solo", "Jawa Tengah", "Asia/Jakarta"),
    ("Malang", "Jawa Timur", "Asia/Jakarta"),
    ("Palembang", "Sumatera Selatan", "Asia/Jakarta"),
    ("Pekanbaru", "Riau", "Asia/Jakarta"),
    ("Padang", "Sumatera Barat", "Asia/Jakarta"),
    ("Batam", "Kepulauan Riau", "Asia/Jakarta"),
    ("Bandar Lampung", "Lampung", "Asia/Jakarta"),
    ("Jambi", "Jambi", "Asia/Jakarta"),
    ("Banda Aceh", "Aceh", "Asia/Jakarta"),
    ("Pontianak", "Kalimantan Barat", "Asia/Jakarta"),
    ("Palangka Raya", "Kalimantan Tengah", "Asia/Jakarta"),
    ("Balikpapan", "Kalimantan Timur", "Asia/Makassar"),
    ("Samarinda", "Kalimantan Timur", "Asia/Makassar"),
    ("Banjarmasin", "Kalimantan Selatan", "Asia/Makassar"),
    ("Mataram", "Nusa Tenggara Barat", "Asia/Makassar"),
    ("Labuan Bajo", "Nusa Tenggara Timur", "Asia/Makassar"),
    ("Kupang", "Nusa Tenggara Timur", "Asia/Makassar"),
    ("Manado", "Sulawesi Utara", "Asia/Makassar"),
    ("Palu", "Sulawesi Tengah", "Asia/Makassar"),
    ("Kendari", "Sulawesi Tenggara", "Asia/Makassar"),
    ("Ambon", "Maluku", "Asia/Jayapura"),
    ("Ternate", "Maluku Utara", "Asia/Jayapura"),
    ("Sorong", "Papua Barat Daya", "Asia/Jayapura"),
    ("Jayapura", "Papua", "Asia/Jayapura"),
]

ACTIVITIES = [
    # slug, Indonesian, English, description id, description en
    ("hangout", "Nongkrong", "Hangout", "Ngopi, nonton, jalan di mal.", "Coffee, a film, a walk in the mall."),
    ("event", "Teman acara & kondangan", "Event & kondangan partner", "Kondangan, reuni, acara kantor.",
     "Weddings, reunions, office parties."),
    ("guide", "Pemandu kota & wisata", "City or tour guide", "Kuliner lokal, tempat tersembunyi, museum.",
     "Local food, hidden spots, museums."),
    ("sports", "Teman olahraga", "Sports buddy", "Badminton, lari, padel, gym.", "Badminton, running, padel, the gym."),
    ("study", "Teman belajar", "Study buddy", "Fokus belajar bareng di kafe atau perpustakaan.",
     "Stay focused together in a café or library."),
    ("gaming", "Teman main game", "Gaming buddy", "Mabar di game center atau turnamen.",
     "Team up at a game centre or a tournament."),
    ("talk", "Teman ngobrol & curhat", "Talk & listen", "Ngobrol santai dan didengarkan.",
     "A relaxed chat with someone who listens."),
    ("culinary", "Wisata kuliner", "Culinary buddy", "Cari makanan enak bareng.", "Find great food together."),
]

LANGUAGES = [
    ("id", "Bahasa Indonesia", "Indonesian"),
    ("en", "Bahasa Inggris", "English"),
    ("jv", "Bahasa Jawa", "Javanese"),
    ("su", "Bahasa Sunda", "Sundanese"),
    ("ban", "Bahasa Bali", "Balinese"),
    ("min", "Bahasa Minang", "Minangkabau"),
    ("ms", "Bahasa Melayu", "Malay"),
    ("zh", "Bahasa Mandarin", "Mandarin"),
    ("ja", "Bahasa Jepang", "Japanese"),
    ("ko", "Bahasa Korea", "Korean"),
    ("ar", "Bahasa Arab", "Arabic"),
]


def seed(apps, schema_editor):
    from django.utils.text import slugify

    City = apps.get_model("companions", "City")
    Activity = apps.get_model("companions", "Activity")
    SpokenLanguage = apps.get_model("companions", "SpokenLanguage")
    MarketplaceSettings = apps.get_model("companions", "MarketplaceSettings")
    for position, (name, province, time_zone) in enumerate(CITIES):
        City.objects.update_or_create(
            slug=slugify(name), defaults={"name": name, "province": province, "time_zone": time_zone, "position": position}
        )
    for position, (slug, name_id, name_en, description_id, description_en) in enumerate(ACTIVITIES):
        Activity.objects.update_or_create(
            slug=slug,
            defaults={
                "name_id": name_id,
                "name_en": name_en,
                "description_id": description_id,
                "description_en": description_en,
                "position": position,
            },
        )
    for position, (code, name_id, name_en) in enumerate(LANGUAGES):
        SpokenLanguage.objects.update_or_create(
            code=code, defaults={"name_id": name_id, "name_en": name_en, "position": position}
        )
    MarketplaceSettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("companions", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
