<?php
// hardspec guestbook — container healthcheck for PHP-FPM, run by php-cli (no shell needed):
// sends one real FastCGI request to 127.0.0.1:9000 for the pool's ping.path and exits 0 only
// when a worker answers "pong" within the timeout. A plain TCP connect is not enough: the
// kernel completes the handshake on the master's listen socket even when no worker can accept.
declare(strict_types=1);

const FCGI_HOST = 'tcp://127.0.0.1:9000';
const PING_PATH = '/fpm-ping';
const EXPECTED = 'pong';
const TIMEOUT = 2.0;

function fail(string $why): never
{
    fwrite(STDERR, "fpm-healthcheck: $why\n");
    exit(1);
}

function record(int $type, string $content): string
{
    // version 1, type, request id 1, content length, no padding, reserved
    return pack('CCnnCx', 1, $type, 1, strlen($content), 0) . $content;
}

function pairs(array $params): string
{
    $out = '';
    foreach ($params as $name => $value) {
        $out .= chr(strlen($name)) . chr(strlen($value)) . $name . $value; // all < 128 bytes
    }
    return $out;
}

$deadline = microtime(true) + TIMEOUT;
$sock = @stream_socket_client(FCGI_HOST, $errno, $errstr, TIMEOUT);
if ($sock === false) {
    fail("connect failed: $errstr ($errno)");
}
stream_set_timeout($sock, (int) ceil(TIMEOUT));

$params = pairs([
    'GATEWAY_INTERFACE' => 'FastCGI/1.0',
    'REQUEST_METHOD' => 'GET',
    'SCRIPT_NAME' => PING_PATH,
    'SCRIPT_FILENAME' => PING_PATH,
    'REQUEST_URI' => PING_PATH,
    'QUERY_STRING' => '',
    'SERVER_PROTOCOL' => 'HTTP/1.1',
    'REMOTE_ADDR' => '127.0.0.1',
]);
$request = record(1, pack('nCx5', 1, 0))   // FCGI_BEGIN_REQUEST, role RESPONDER, no keep-alive
    . record(4, $params) . record(4, '')     // FCGI_PARAMS
    . record(5, '');                         // FCGI_STDIN (empty)
if (@fwrite($sock, $request) !== strlen($request)) {
    fail('write failed');
}

$buffer = '';
$stdout = '';
$ended = false;
while (!$ended && microtime(true) < $deadline) {
    $chunk = fread($sock, 8192);
    if ($chunk === false || ($chunk === '' && (feof($sock) || stream_get_meta_data($sock)['timed_out']))) {
        break;
    }
    $buffer .= $chunk;
    while (strlen($buffer) >= 8) {
        $h = unpack('Cversion/Ctype/nid/nlength/Cpadding', $buffer);
        $total = 8 + $h['length'] + $h['padding'];
        if (strlen($buffer) < $total) {
            break;
        }
        if ($h['type'] === 6) {          // FCGI_STDOUT
            $stdout .= substr($buffer, 8, $h['length']);
        } elseif ($h['type'] === 3) {    // FCGI_END_REQUEST
            $ended = true;
        }
        $buffer = substr($buffer, $total);
    }
}
fclose($sock);

if (!$ended) {
    fail('no complete FastCGI answer within ' . TIMEOUT . 's');
}
$split = strpos($stdout, "\r\n\r\n");
$headers = $split === false ? $stdout : substr($stdout, 0, $split);
$body = $split === false ? '' : substr($stdout, $split + 4);
if (preg_match('/^Status:\s*(\d{3})/mi', $headers, $m) && $m[1] !== '200') {
    fail("ping answered status {$m[1]}");
}
if (trim($body) !== EXPECTED) {
    fail('unexpected ping answer');
}
exit(0);
