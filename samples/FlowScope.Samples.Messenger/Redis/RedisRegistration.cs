using FlowScope.Samples.Messenger.Pipeline;
using FlowScope.Samples.Messenger.Storage;
using StackExchange.Redis;

namespace FlowScope.Samples.Messenger.Redis;

/// <summary>With <c>ConnectionStrings:Redis</c>: users, rooms and history in Redis, and a Redis Streams bus between instances.</summary>
internal static class RedisRegistration
{
    public static void AddRedisBackend(IServiceCollection services, string connectionString)
    {
        services.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            var options = ConfigurationOptions.Parse(connectionString);
            options.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(options);
        });
        services.AddSingleton<IUserStore, RedisUserStore>();
        services.AddSingleton<IChatStore, RedisChatStore>();
        services.AddSingleton<RedisStreamBus>();
        services.AddSingleton<IMessageBus>(sp => sp.GetRequiredService<RedisStreamBus>());
        services.AddHostedService<RedisStreamConsumer>();
        services.AddSingleton<RedisPresence>();
        services.AddSingleton<Realtime.IPresenceDirectory>(sp => sp.GetRequiredService<RedisPresence>());
        services.AddHostedService(sp => sp.GetRequiredService<RedisPresence>());
    }
}
