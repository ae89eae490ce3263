"""English first, French for everything that exists."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import client_for

CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def test_french_catalogue_is_complete():
    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", str(CATALOGUE)], capture_output=True, text=True, check=False
    )
    if untranslated.returncode == 127:
        pytest.skip("gettext tools are not installed")
    assert untranslated.stdout.strip() == "", untranslated.stdout
    fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", str(CATALOGUE)], capture_output=True, text=True, check=True)
    assert fuzzy.stdout.strip() == "", fuzzy.stdout


def test_user_who_chose_french_reads_french(personas):
    personas.owner.language = "fr"
    personas.owner.save()
    page = client_for(personas.owner).get(reverse("organization-members", args=["maison-lumiere"])).content.decode()
    assert '<html lang="fr">' in page
    assert "Inviter une personne" in page
    assert "vous êtes propriétaire" in page


def test_visitor_gets_the_language_their_browser_asks_for(db):
    page = client_for(None).get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()
    assert "Se connecter" in page


def test_english_is_the_default(db):
    page = client_for(None).get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Sign in to Primetime" in page
