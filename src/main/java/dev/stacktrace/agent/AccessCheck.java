package dev.stacktrace.agent;

import com.sun.net.httpserver.Authenticator;
import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpExchange;
import java.nio.charset.StandardCharsets;

/**
 * Run by the HTTP server before every endpoint (/metrics included): a Host header we do not know is
 * refused with 421 Misdirected Request, then, when an auth file is configured, basic auth asks for the
 * user (401) and lets only that user through.
 */
final class AccessCheck extends Authenticator {
    static final int MISDIRECTED = 421;

    private final HostCheck hosts;
    private final BasicAuthenticator basic;

    AccessCheck(HostCheck hosts, Credentials credentials) {
        this.hosts = hosts;
        this.basic = credentials == null ? null : new BasicAuthenticator("stacktrace", StandardCharsets.UTF_8) {
            @Override
            public boolean checkCredentials(String user, String password) {
                return credentials.matches(user, password);
            }
        };
    }

    @Override
    public Result authenticate(HttpExchange exchange) {
        if (!hosts.accepts(exchange.getRequestHeaders().getFirst("Host"))) return new Failure(MISDIRECTED);
        return basic == null ? new Success(null) : basic.authenticate(exchange);
    }
}
