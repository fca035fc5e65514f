<?php
// hardspec guestbook — request handling, database access, CSRF and output escaping.
declare(strict_types=1);

namespace Guestbook;

use PDO;
use PDOException;
use RuntimeException;
use Throwable;

const DB_HOST = 'db';
const DB_PORT = 3306;
const DB_NAME = 'guestbook';
const DB_USER = 'guestbook';
const DB_PASSWORD_FILE = '/run/secrets/db-password';

const USERNAME_MAX = 40;
const SUGGESTION_MAX = 500;
const LIST_LIMIT = 50;

const CSRF_COOKIE = 'gb_csrf';
const CSRF_FIELD = 'csrf_token';
const CSRF_TTL = 7200;

/** The service cannot answer right now (database or secret unavailable): 503. */
final class Unavailable extends RuntimeException
{
}

function h(string $s): string
{
    return htmlspecialchars($s, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
}

function db_password(): string
{
    static $password = null;
    if ($password === null) {
        $raw = @file_get_contents(DB_PASSWORD_FILE);
        if ($raw === false) {
            throw new Unavailable('the db-password secret is not readable');
        }
        $raw = rtrim($raw, "\r\n");
        if ($raw === '') {
            throw new Unavailable('the db-password secret is empty');
        }
        $password = $raw;
    }
    return $password;
}

function db(): PDO
{
    static $pdo = null;
    if ($pdo === null) {
        $dsn = sprintf('mysql:host=%s;port=%d;dbname=%s;charset=utf8mb4', DB_HOST, DB_PORT, DB_NAME);
        try {
            $pdo = new PDO($dsn, DB_USER, db_password(), [
                PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
                PDO::ATTR_EMULATE_PREPARES => false,
                PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
                PDO::ATTR_STRINGIFY_FETCHES => false,
                PDO::ATTR_TIMEOUT => 3,
            ]);
        } catch (PDOException $e) {
            // The message may name host and user; it goes to the log only, never to the page.
            throw new Unavailable('database connection failed: ' . $e->getMessage());
        }
    }
    return $pdo;
}

/** @return list<array{id:int, username:string, suggestion:string, created_at:string}> */
function latest_entries(): array
{
    $stmt = db()->prepare(
        'SELECT id, username, suggestion, created_at FROM entries ORDER BY created_at DESC, id DESC LIMIT :limit'
    );
    $stmt->bindValue(':limit', LIST_LIMIT, PDO::PARAM_INT);
    $stmt->execute();
    return $stmt->fetchAll();
}

function add_entry(string $username, string $suggestion): void
{
    $stmt = db()->prepare('INSERT INTO entries (username, suggestion) VALUES (:username, :suggestion)');
    $stmt->execute([':username' => $username, ':suggestion' => $suggestion]);
}

// ---- CSRF: signed double-submit cookie ------------------------------------------------------
// A random nonce lives in an HttpOnly, SameSite=Lax cookie; the form carries
// "<issued-at>.<HMAC-SHA256(key, nonce|issued-at)>". A cross-site POST carries no cookie
// (SameSite) and cannot read one to forge the HMAC. The key is derived (HKDF) from the DB
// password secret: no extra secret to manage and no session storage on the read-only root.

function csrf_key(): string
{
    return hash_hkdf('sha256', db_password(), 32, 'hardspec guestbook csrf v1');
}

function csrf_cookie_nonce(): ?string
{
    $nonce = $_COOKIE[CSRF_COOKIE] ?? null;
    return is_string($nonce) && preg_match('/\A[0-9a-f]{64}\z/', $nonce) === 1 ? $nonce : null;
}

function csrf_issue_token(): string
{
    $nonce = csrf_cookie_nonce();
    if ($nonce === null) {
        $nonce = bin2hex(random_bytes(32));
        setcookie(CSRF_COOKIE, $nonce, [
            'path' => '/',
            'httponly' => true,
            'samesite' => 'Lax',
            'secure' => ($_SERVER['HTTPS'] ?? '') !== '' && ($_SERVER['HTTPS'] ?? '') !== 'off',
        ]);
    }
    $issued = (string) time();
    return $issued . '.' . hash_hmac('sha256', $nonce . '|' . $issued, csrf_key());
}

function csrf_valid(): bool
{
    $nonce = csrf_cookie_nonce();
    $token = $_POST[CSRF_FIELD] ?? null;
    if ($nonce === null || !is_string($token) || preg_match('/\A(\d{1,12})\.([0-9a-f]{64})\z/', $token, $m) !== 1) {
        return false;
    }
    $age = time() - (int) $m[1];
    if ($age < -60 || $age > CSRF_TTL) {
        return false;
    }
    return hash_equals(hash_hmac('sha256', $nonce . '|' . $m[1], csrf_key()), $m[2]);
}

/**
 * Browsers tell us where a POST came from; refuse anything that says cross-site. This is defence
 * in depth: the CSRF token is the real check. Note `Origin: null` is what browsers send on form
 * POSTs from our own page because of `Referrer-Policy: no-referrer`, so "null" proves nothing
 * either way and is accepted (Sec-Fetch-Site still says "same-origin" there).
 */
function same_origin_request(): bool
{
    $site = $_SERVER['HTTP_SEC_FETCH_SITE'] ?? null;
    if (is_string($site) && !in_array($site, ['same-origin', 'none'], true)) {
        return false;
    }
    $origin = $_SERVER['HTTP_ORIGIN'] ?? null;
    if (is_string($origin) && $origin !== '' && $origin !== 'null') {
        // Host names only: Debian's fastcgi_params passes HTTP_HOST as nginx's $host, without
        // the port, and the published port may differ from the one nginx listens on anyway.
        $originHost = parse_url($origin, PHP_URL_HOST);
        $requestHost = parse_url('http://' . (string) ($_SERVER['HTTP_HOST'] ?? ''), PHP_URL_HOST);
        return is_string($originHost) && is_string($requestHost) && strcasecmp($originHost, $requestHost) === 0;
    }
    return true;
}

// ---- input validation -----------------------------------------------------------------------

/** @return array{0: string, 1: ?string} the cleaned value and an error message or null */
function clean_field(string $name, string $label, int $max, bool $multiline): array
{
    $value = $_POST[$name] ?? '';
    if (!is_string($value) || strlen($value) > 4 * $max + 16) {
        return ['', "$label is too long (at most $max characters)."];
    }
    $value = trim(str_replace("\r\n", "\n", $value));
    $length = iconv_strlen($value, 'UTF-8');
    if ($length === false) {
        return ['', "$label is not valid UTF-8 text."];
    }
    if ($length === 0) {
        return ['', "$label is required."];
    }
    if ($length > $max) {
        return [$value, "$label is too long (at most $max characters)."];
    }
    // Control characters (newlines allowed in multi-line fields) and bidi overrides are refused.
    $forbidden = $multiline
        ? '/[\x{0}-\x{9}\x{B}-\x{1F}\x{7F}-\x{9F}\x{202A}-\x{202E}\x{2066}-\x{2069}]/u'
        : '/[\x{0}-\x{1F}\x{7F}-\x{9F}\x{202A}-\x{202E}\x{2066}-\x{2069}]/u';
    if (preg_match($forbidden, $value) !== 0) {
        return [$value, "$label contains characters that are not allowed."];
    }
    return [$value, null];
}

// ---- responses ------------------------------------------------------------------------------

function render(string $template, array $vars): void
{
    extract($vars, EXTR_SKIP);
    require __DIR__ . '/../templates/' . $template . '.php';
}

function show_page(array $errors = [], array $old = [], bool $posted = false): void
{
    $entries = latest_entries();
    render('page', [
        'entries' => $entries,
        'errors' => $errors,
        'old' => $old + ['username' => '', 'suggestion' => ''],
        'posted' => $posted,
        'token' => csrf_issue_token(),
        'usernameMax' => USERNAME_MAX,
        'suggestionMax' => SUGGESTION_MAX,
    ]);
}

function show_error(int $status, string $title, string $message): void
{
    http_response_code($status);
    if ($status === 503) {
        header('Retry-After: 10');
    }
    render('error', ['title' => $title, 'message' => $message]);
}

function handle_post(): void
{
    if (!same_origin_request() || !csrf_valid()) {
        show_error(403, 'Form expired', 'This form could not be verified. Please reload the page and try again.');
        return;
    }
    [$username, $usernameError] = clean_field('username', 'Name', USERNAME_MAX, false);
    [$suggestion, $suggestionError] = clean_field('suggestion', 'Suggestion', SUGGESTION_MAX, true);
    $errors = array_values(array_filter([$usernameError, $suggestionError]));
    if ($errors !== []) {
        http_response_code(422);
        show_page($errors, ['username' => $username, 'suggestion' => $suggestion]);
        return;
    }
    add_entry($username, $suggestion);
    // POST/redirect/GET: a reload does not post again.
    header('Location: /?posted=1', true, 303);
}

function main(): void
{
    header_remove('X-Powered-By');
    header('Content-Type: text/html; charset=utf-8');
    header('Cache-Control: no-store');
    ob_start();
    try {
        $method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
        if ($method === 'GET' || $method === 'HEAD') {
            show_page([], [], ($_GET['posted'] ?? '') === '1');
        } elseif ($method === 'POST') {
            handle_post();
        } else {
            header('Allow: GET, HEAD, POST');
            show_error(405, 'Method not allowed', 'This page only accepts GET and POST.');
        }
        ob_end_flush();
    } catch (Throwable $e) {
        ob_end_clean();
        header_remove('Location');
        header_remove('Set-Cookie');
        // Log the class and message only: no trace, no arguments, no DSN with credentials.
        error_log('guestbook: ' . get_class($e) . ': ' . $e->getMessage());
        if ($e instanceof Unavailable || $e instanceof PDOException) {
            show_error(503, 'Guestbook temporarily unavailable', 'The guestbook cannot reach its database right now. Please try again in a moment.');
        } else {
            show_error(500, 'Something went wrong', 'The guestbook could not handle this request.');
        }
    }
}
