using System.Threading.RateLimiting;
using FlowScope.Samples.Messenger.Api;
using FlowScope.Samples.Messenger.Infrastructure;
using FlowScope.Samples.Messenger.Pipeline;
using FlowScope.Samples.Messenger.Realtime;
using FlowScope.Samples.Messenger.Simulation;
using FlowScope.Samples.Messenger.Storage;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace FlowScope.Samples.Messenger;

/// <summary>Builds the messenger: services, middleware and endpoints. <c>Program</c> runs it; tests start it on Kestrel.</summary>
internal static class MessengerApp
{
    /// <param name="args">The command line.</param>
    /// <param name="configure">Runs first: configuration sources and logging (tests).</param>
    /// <param name="configureServices">Runs after the app's own registrations (tests: FlowScope's testing services).</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        AddServices(builder);
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        UsePipeline(app);
        return app;
    }

    private static void AddServices(WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MessengerOptions>().BindConfiguration(MessengerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        var redis = builder.Configuration.GetConnectionString("Redis");

        // FlowScope: every request, middleware, MVC step, log and the queues below; "Messenger" adds this app's own spans.
        // With ConnectionStrings:Redis set, FlowScope's history goes to Redis Streams too, shared by every instance.
        // In Development, operators on this machine may inject delays and failures from the dashboard's Controls view.
        var simulator = builder.Configuration.GetSection($"{MessengerOptions.SectionName}:Simulator").Get<SimulatorSettings>() ?? new();
        services.AddFlowScope(o =>
            {
                o.Sources.Add(MessengerTelemetry.SourceName);
                if (builder.Environment.IsDevelopment())
                {
                    o.EnableFaultInjection = true;
                }
            })
            .AddQueue<ChatEvent, DeliveryWorker>(InProcessMessageBus.QueueName, o => o.Capacity = 10_000)
            .AddQueue<NotificationJob, NotificationWorker>(DeliveryService.NotificationQueue)
            .AddQueue<BotCommand, BotWorker>(DeliveryService.BotQueue)
            // Simulated users chatting, started and paced from the dashboard (or at start with Messenger:Simulator:Enabled).
            .AddSimulator(LoadSimulator.Name, (sp, ct) => sp.GetRequiredService<LoadSimulator>().SendOneAsync(ct), o =>
            {
                o.Description = "Simulated users chatting in the default rooms, now and then asking the bot.";
                o.RatePerSecond = simulator.MessagesPerSecond;
                o.MaxRatePerSecond = 1_000;
                o.StartOnStartup = simulator.Enabled;
            })
            .AddRedisStreams(o =>
            {
                if (string.IsNullOrWhiteSpace(o.ConnectionString) && !string.IsNullOrWhiteSpace(redis))
                {
                    o.ConnectionString = redis;
                }
            });

        services.AddSingleton<InstanceInfo>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<AccountService>();
        services.AddSingleton<MessageIntake>();
        services.AddSingleton<DeliveryService>();
        services.AddSingleton<LoadSimulator>();

        if (string.IsNullOrWhiteSpace(redis))
        {
            Storage.Sqlite.SqliteRegistration.AddSqliteBackend(services, builder.Configuration[$"{MessengerOptions.SectionName}:{nameof(MessengerOptions.Database)}"]);
            services.AddSingleton<IMessageBus, InProcessMessageBus>();
            services.AddSingleton<IPresenceDirectory, LocalPresence>();
        }
        else
        {
            Redis.RedisRegistration.AddRedisBackend(services, redis);
        }

        // After the stores (and Redis) exist: the default rooms.
        services.AddHostedService<RoomSeeder>();

        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions["requestId"] = c.HttpContext.TraceIdentifier);
        services.AddControllers()
            .AddApplicationPart(typeof(MessengerApp).Assembly) // also when a test host is the entry assembly
            .ConfigureApplicationPartManager(parts => parts.FeatureProviders.Add(new InternalControllerFeatureProvider()));

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.Cookie.Name = "messenger.auth";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromDays(7);
            o.SlidingExpiration = true;
            // An API and a socket: answer 401/403 (problem details) instead of redirecting to a login page.
            o.Events.OnRedirectToLogin = c =>
            {
                c.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            };
            o.Events.OnRedirectToAccessDenied = c =>
            {
                c.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        services.AddAuthorization();

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(RateLimits.Api, context => RateLimitPartition.GetFixedWindowLimiter(
                context.User.Identity?.Name ?? "ip:" + context.Connection.RemoteIpAddress,
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Settings(context).ApiRequestsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
            o.AddPolicy(RateLimits.Auth, context => RateLimitPartition.GetFixedWindowLimiter(
                "ip:" + context.Connection.RemoteIpAddress,
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Settings(context).AuthRequestsPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
            o.OnRejected = async (context, cancellationToken) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    context.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests", Detail = "Slow down and try again shortly." },
                });
            };
        });
    }

    private static MessengerOptions Settings(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<MessengerOptions>>().Value;

    private static void UsePipeline(WebApplication app)
    {
        app.UseFlowScope();
        app.UseMiddleware<RequestIdMiddleware>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        var ui = new EmbeddedFileProvider(typeof(MessengerApp).Assembly, "FlowScope.Samples.Messenger.wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = ui });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = ui,
            OnPrepareResponse = c =>
            {
                c.Context.Response.Headers.CacheControl = "no-cache";
                c.Context.Response.Headers.XContentTypeOptions = "nosniff";
                c.Context.Response.Headers.ContentSecurityPolicy =
                    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";
            },
        });

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });

        app.MapControllers();
        app.MapMessengerSocket();
        app.MapRuntimeStats();
        // Unknown API paths: problem details rather than the UI.
        app.Map("/api/{**rest}", () => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: "No such API endpoint."));
    }
}
