// Vigil's demo rules: they catch the files the demo plants (vigil/monitor/demo_replay.py) and
// nothing an ordinary office share holds. Written for the demo, not for production hunting.

rule Demo_Webshell_PHP_Eval_Request
{
    meta:
        description = "PHP that runs code taken straight from an HTTP request (one-line web shell)"
        author = "Vigil demo"
        score = 80

    strings:
        $php = "<?php" nocase
        $eval = /(eval|assert)\s*\(\s*((base64_decode|gzinflate|str_rot13)\s*\(\s*)?\$_(POST|GET|REQUEST|COOKIE)\s*\[/ nocase

    condition:
        filesize < 512KB and $php and $eval
}

rule Demo_Ransom_Note_Text
{
    meta:
        description = "Ransom note: files encrypted, pay in Bitcoin, talk to us on a .onion site"
        author = "Vigil demo"
        score = 90

    strings:
        $encrypted = "files have been encrypted" nocase
        $pay_btc = "bitcoin" nocase
        $onion = /[a-z2-7]{16,56}\.onion/ nocase
        $decrypt = "decrypt" nocase

    condition:
        filesize < 64KB and $encrypted and 2 of ($pay_btc, $onion, $decrypt)
}
