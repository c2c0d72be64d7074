#!/usr/bin/env python3
"""Drives the web console in headless Chromium over WebDriver (Debian's chromium,
chromium-driver and python3-selenium), as an administrator would: logs in, reads the
dashboard and watches its script refresh it, lowers MaxConnections and sees a new IMAP
connection refused, ends a session on the connections page, adds a user who then logs
in over IMAP, and looks at the sharing page. A screenshot of each page goes to --shots. Exits non-zero on the first thing that
is not as it should be.

Usage: console.py --url http://127.0.0.1:PORT --imap 127.0.0.1:PORT --user root
       --password PW --shots DIR --profile DIR
"""

import argparse
import imaplib
import os
import socket
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

# Chromium as root on a machine without a network: no sandbox, no GPU, nothing that
# phones home, a profile of its own.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,860",
]


def browser(profile):
    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS + ["--user-data-dir=" + profile]:
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def check(condition, what):
    if not condition:
        print("console.py: " + what, file=sys.stderr)
        sys.exit(1)


def greeting(imap):
    host, port = imap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        return conn.makefile("rb").readline().decode().rstrip("\r\n")


def main():
    args = argparse.ArgumentParser()
    for name in ["url", "imap", "user", "password", "shots", "profile"]:
        args.add_argument("--" + name, required=True)
    args = args.parse_args()
    host, port = args.imap.rsplit(":", 1)
    driver = browser(args.profile)
    # A click that submits a form replaces the page while a wait may be reading the old
    # one: an element gone stale (or not there yet) means "not yet", not a failure.
    wait = WebDriverWait(
        driver, 30, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    )
    shot = lambda name: driver.save_screenshot(os.path.join(args.shots, name + ".png"))
    try:
        driver.get(args.url + "/")
        check(driver.current_url.endswith("/login"), "no session: not sent to the login page")
        shot("login")
        driver.find_element(By.NAME, "user").send_keys(args.user)
        driver.find_element(By.NAME, "password").send_keys(args.password)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait.until(lambda d: d.find_elements(By.ID, "imap-connections"))
        check(driver.title.startswith("Dashboard"), "not the dashboard: " + driver.title)
        before = driver.find_element(By.ID, "imap-connections").text
        check(before == "0", "IMAP connections before any: " + before)

        # The page's script refreshes the figures: a new login shows without a reload.
        session = imaplib.IMAP4(host, int(port))
        session.login("alice", "alicepw")
        session.select("INBOX")
        wait.until(lambda d: d.find_element(By.ID, "imap-connections").text == "1")
        shot("dashboard")

        driver.get(args.url + "/settings/imap")
        field = driver.find_element(By.NAME, "max_connections")
        field.clear()
        field.send_keys("0")
        driver.find_element(By.CSS_SELECTOR, "form.settings button").click()
        # The answer is a new page: wait for it rather than read the old one.
        error = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "td .error")).text
        check("between 1 and 2147483647" in error, "no range next to the field: " + error)
        shot("settings-refused")
        field = driver.find_element(By.NAME, "max_connections")
        field.clear()
        field.send_keys("1")
        driver.find_element(By.CSS_SELECTOR, "form.settings button").click()
        wait.until(lambda d: d.find_elements(By.CLASS_NAME, "saved"))
        shot("settings")
        refused = greeting(args.imap)
        check(
            refused == "* BYE [UNAVAILABLE] Too many connections to this server",
            "a connection past MaxConnections was greeted: " + refused,
        )

        driver.get(args.url + "/connections")
        rows = driver.find_elements(By.CSS_SELECTOR, "table.connections tr")
        alice = [row for row in rows if "alice" in row.text]
        check(len(alice) == 1, "alice's session is not listed once: " + str([r.text for r in rows]))
        check("selected" in alice[0].text, "not listed as selected: " + alice[0].text)
        shot("connections")
        alice[0].find_element(By.TAG_NAME, "button").click()
        wait.until(lambda d: "alice" not in d.find_element(By.ID, "main").text)
        try:
            session.noop()
            check(False, "the ended session still answers")
        except (imaplib.IMAP4.abort, OSError):
            pass

        driver.get(args.url + "/settings/imap")
        field = driver.find_element(By.NAME, "max_connections")
        field.clear()
        field.send_keys("2000")
        driver.find_element(By.CSS_SELECTOR, "form.settings button").click()
        wait.until(lambda d: d.find_elements(By.CLASS_NAME, "saved"))

        driver.get(args.url + "/users")
        form = driver.find_element(By.CSS_SELECTOR, "form.add-user")
        form.find_element(By.NAME, "name").send_keys("carol")
        form.find_element(By.NAME, "password").send_keys("carolpw")
        form.find_element(By.TAG_NAME, "button").click()
        wait.until(lambda d: "carol" in d.find_element(By.CSS_SELECTOR, "table.users").text)
        shot("users")
        carol = imaplib.IMAP4(host, int(port))
        carol.login("carol", "carolpw")
        carol.logout()

        driver.get(args.url + "/sharing?owner=alice&mailbox=INBOX")
        check("alice" in driver.find_element(By.CSS_SELECTOR, "table.acl").text, "no ACL shown")
        shot("sharing")

        driver.find_element(By.CSS_SELECTOR, "form.logout button").click()
        wait.until(lambda d: d.current_url.endswith("/login"))
        driver.get(args.url + "/users")
        check(driver.current_url.endswith("/login"), "still logged in after logging out")
    finally:
        driver.quit()
    print("console.py: every step passed")


if __name__ == "__main__":
    main()
